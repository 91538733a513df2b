"""Imports through the running register: upload a list, follow its progress, download the reports.

    POST /imports                    multipart: bestand (.xlsx/.csv), soort (verenigingen|kbo),
                                     proef (ja = round 1, writes nothing), reden      → 202 + Location
    GET  /imports/<id>               status, rows done, summary, download links (JSON)
    GET  /imports/<id>/<bestand>     importrapport.xlsx, meldingen.csv, dubbels.csv, resultaat.csv,
                                     terugkoppeling.xlsx
    DELETE /imports/<id>             stop a running import after the batch being written  → 202

A file that cannot be imported at all (unreadable, a required column missing, no filled row) is refused
in the answer to the upload (422), before any job starts.

Only initiators, and each only sees its own imports. The import runs in a thread of the server
process through the same CommandHandler as every other write (batches of register_batch/change,
each write audited like an HTTP write). Status lives in a file next to the upload, so every
server process can answer for it. `vr import --register URL --key-file F` is a client of this.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    copy_current_request_context,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
)

from app.auth import audit
from app.auth.access import principal
from app.domain.versions import Initiator
from app.exchange.importer import ImportStopped, check_file, outcome_summary, run_import
from app.exchange.spreadsheet import FileRejected
from app.publication.problems import wants_html
from app.store import StoreUnavailable
from app.validation import formats
from app.validation.errors import CommandRejected

bp = Blueprint("import_api", __name__)
log = logging.getLogger(__name__)
MAX_UPLOAD = int(os.environ.get("VR_MAX_IMPORT_BYTES", 50 * 1024 * 1024))
SUFFIXES = (".xlsx", ".csv")
TEMPLATES = ("import-verenigingen.xlsx", "import-kbo.xlsx", "import-verenigingen.csv", "import-kbo.csv")
DOWNLOADS = ("importrapport.xlsx", "meldingen.csv", "dubbels.csv", "resultaat.csv", "terugkoppeling.xlsx")


def _directory() -> Path:
    return current_app.extensions["vr"].settings.data_dir / "imports"


def _problem(status: int, slug: str, title: str, detail: str) -> CommandRejected:
    return CommandRejected(status, slug, title, detail)


def _yes_or_no(text: str) -> bool:
    """'proef': only an explicit no writes; what is neither yes nor no is refused, never taken as a real import."""
    value = text.strip().lower()
    if value in ("ja", "j", "true", "1", "yes"):
        return True
    if value in ("nee", "neen", "n", "false", "0", "no"):
        return False
    raise _problem(400, "proef", "Ongeldige waarde voor 'proef'",
                   f"'proef' is 'ja' (proefronde: er wordt niets geschreven) of 'nee' (echt importeren), niet "
                   f"'{text[:40]}'.")


@bp.post("/imports")
def start_import() -> Response:
    caller = principal("initiator")
    request.max_content_length = MAX_UPLOAD
    upload = request.files.get("bestand")
    if upload is None or not upload.filename:
        raise _problem(400, "bestand-ontbreekt", "Bestand ontbreekt",
                       "Stuur het bestand als multipart/form-data in het veld 'bestand' (.xlsx of .csv).")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise _problem(415, "bestandstype", "Bestandstype niet ondersteund",
                       f"Een import is een .xlsx- of .csv-bestand, niet '{suffix or upload.filename}'."
                       + (" Open het in Excel of LibreOffice en bewaar het als .xlsx (Excel-werkmap)."
                          if suffix in (".xls", ".ods", ".numbers", ".xlsb") else ""))
    soort = request.form.get("soort", "verenigingen")
    if soort not in ("verenigingen", "kbo"):
        raise _problem(400, "soort", "Onbekende soort", "'soort' is 'verenigingen' of 'kbo'.")
    proef = _yes_or_no(request.form.get("proef", "ja"))
    reden = (request.form.get("reden") or "").strip() or None
    if reden and (formats.contains_html(reden) or len(reden) > 500):
        raise _problem(400, "reden", "Ongeldige reden", "Een reden is tekst zonder HTML, hoogstens 500 tekens.")
    job = secrets.token_hex(8)
    folder = _directory() / job
    folder.mkdir(parents=True)
    source = folder / f"upload{suffix}"
    upload.save(source)
    try:
        check_file(source, soort)
    except FileRejected as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise _problem(422, "bestand-geweigerd", "Bestand geweigerd", f"{exc} Er werd niets geschreven.") from None
    except BaseException:  # whatever happened, no upload stays behind without a status
        shutil.rmtree(folder, ignore_errors=True)
        raise
    stem = Path(upload.filename).stem[:80]
    status = {"id": job, "ovo": caller.initiator.ovo, "bestand": upload.filename, "soort": soort, "proef": proef,
              "status": "bezig", "proces": _this_process(), "rijen": 0,
              "gestart": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _save(folder, status)
    register = current_app.extensions["vr"]
    hook = audit.before_commit("import", caller) if not proef else None
    # the thread keeps a copy of this request's context: the audit hook logs the caller, IP and endpoint
    worker = threading.Thread(target=copy_current_request_context(_run), name=f"import-{job}", daemon=True,
                              args=(register, folder, source, stem, status, caller.initiator, reden, hook))
    worker.start()
    if wants_html():  # the upload form of /imports: on to the page that follows the import
        return redirect(f"/imports/{job}", code=303)
    response = Response(json.dumps(_public(status)), status=202, mimetype="application/json")
    response.headers["Location"] = f"/imports/{job}"
    return response


def _run(register, folder: Path, source: Path, stem: str, status: dict, initiator: Initiator, reden, hook) -> None:
    def progress(done: int) -> None:
        status["rijen"] = done
        _save(folder, status)

    def waiting(now: bool) -> None:
        if now:
            status["wacht"] = ("Er lopen al andere proefimports; deze start zodra er een klaar is." if status["proef"]
                               else "Er loopt al een andere import in het register; deze start zodra die klaar is.")
        else:
            status.pop("wacht", None)
        _save(folder, status)

    stop = folder / STOP
    try:
        report = run_import(source, status["soort"], register.handler, initiator, dry_run=status["proef"],
                            reason=reden, progress=progress, feedback=folder / "terugkoppeling.xlsx",
                            before_commit=hook, stop=stop.exists, waiting=waiting)
        report.write(folder, Path(status["bestand"]))
        status.update(status="klaar", samenvatting=report.counts(), fouten=report.error_rows,
                      tekst=outcome_summary(report), rijen=len(report.results))
    except FileRejected as exc:
        status.update(status="geweigerd", reden=str(exc))
    except ImportStopped as stopped:
        status.update(status="gestopt", rijen=stopped.done, reden=(
            f"Gestopt op vraag. {stopped.done} rijen zijn verwerkt en blijven staan (elke rij is volledig "
            "geschreven of niet: nieuwe verenigingen en wijzigingen per batch); de rest niet. Start de "
            "import opnieuw om verder te gaan: de verwerkte rijen zijn dan 'ongewijzigd'."
            if not status["proef"] else "Gestopt op vraag; er werd niets geschreven."))
    except Exception as exc:  # the job must end with a status, whatever happened
        log.exception("import %s failed", status["id"])
        cause = "de opslag antwoordde niet" if isinstance(exc, StoreUnavailable) else "een interne fout"
        status.update(status="mislukt", reden=f"De import liep vast ({cause}); wat al geschreven werd, blijft "
                                              "staan (elke rij volledig). Start de import opnieuw: geschreven rijen "
                                              "zijn dan 'ongewijzigd'.")
    finally:
        status.pop("wacht", None)
        status["klaar"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _save(folder, status)
        source.unlink(missing_ok=True)
        stop.unlink(missing_ok=True)


STOP = "stoppen"  # a file next to the status: any server process can ask the one running the import to stop


def _save(folder: Path, status: dict) -> None:
    temporary = folder / "status.json.tmp"
    temporary.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    temporary.replace(folder / "status.json")


def _load(job: str) -> tuple[Path, dict]:
    caller = principal("initiator")
    folder = _directory() / job
    if not job.isalnum() or not (folder / "status.json").exists():
        raise _problem(404, "niet-gevonden", "Niet gevonden", f"Import '{job}' is niet gekend.")
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    if status["ovo"] != caller.initiator.ovo:
        raise _problem(404, "niet-gevonden", "Niet gevonden", f"Import '{job}' is niet gekend.")
    return folder, status


def _this_process() -> str:
    """pid and start time: a process that ended is told apart from a new one that got its pid."""
    return f"{os.getpid()}:{_started(os.getpid()) or ''}"  # no start time known: compared as none


def _started(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _abandoned(folder: Path, status: dict) -> dict:
    """An import whose process ended without a status (a restart, kill -9) is 'afgebroken', not 'bezig'
    for ever; its upload is removed. Every row was written whole or not (new verenigingen a batch per
    transaction, then its updates 500 per transaction), so nothing is half written."""
    pid, _, started = str(status.get("proces", "")).partition(":")
    if status["status"] != "bezig" or not pid.isdigit() or _started(int(pid)) == (started or None):
        return status
    status.update(status="afgebroken", reden="Het register werd herstart tijdens deze import. Elke rij die al "
                  "geschreven werd, is volledig geschreven (nieuwe verenigingen en wijzigingen per batch); "
                  "start de import opnieuw: die rijen zijn dan 'ongewijzigd'.")
    for upload in folder.glob("upload.*"):
        upload.unlink(missing_ok=True)
    _save(folder, status)
    return status


def _public(status: dict) -> dict:
    body = {key: value for key, value in status.items() if key not in ("ovo", "proces")}
    if status["status"] == "klaar":
        body["downloads"] = {name: f"/imports/{status['id']}/{name}" for name in DOWNLOADS}
    return body


@bp.get("/imports")
def import_list() -> Response:
    """The caller's organisation's imports, newest first: what a civil servant needs to find last week's run."""
    caller = principal("initiator")
    found = []
    for path in _directory().glob("*/status.json") if _directory().exists() else ():
        status = json.loads(path.read_text(encoding="utf-8"))
        if status.get("ovo") == caller.initiator.ovo:
            found.append(_abandoned(path.parent, status))
    found.sort(key=lambda status: status.get("gestart", ""), reverse=True)
    body = {"imports": [{**{k: status.get(k) for k in ("id", "bestand", "proef", "status", "rijen", "gestart")},
                         "url": f"/imports/{status['id']}"} for status in found[:100]]}
    if wants_html():  # a civil servant in a browser: the upload form and these imports
        return _page(render_template("importeren.html", caller=caller, imports=body["imports"],
                                     max_mb=MAX_UPLOAD >> 20))
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


@bp.get("/imports/<job>")
def import_status(job: str) -> Response:
    folder, status = _load(job)
    status = _abandoned(folder, status)
    if wants_html():
        return _page(render_template("import_status.html", status=_public(status), labels=STATUS_LABELS))
    return Response(json.dumps(_public(status), ensure_ascii=False), mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


STATUS_LABELS = {"bezig": "bezig", "klaar": "klaar", "geweigerd": "bestand geweigerd", "gestopt": "gestopt",
                 "mislukt": "mislukt", "afgebroken": "afgebroken (het register werd herstart)"}


def _page(html: str) -> Response:
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store", "Vary": "Accept"})


@bp.get("/sjablonen/<name>")
def template(name: str) -> Response:
    """The import templates (.xlsx with drop-down lists and code lists, .csv): public, like the code lists."""
    if name not in TEMPLATES:
        raise _problem(404, "niet-gevonden", "Niet gevonden",
                       f"'{name[:80]}' is geen sjabloon; er zijn: {', '.join(TEMPLATES)}.")
    from app.exchange.templates import TARGET  # where `python -m app.exchange.templates` writes them

    response = send_file(TARGET / name, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.delete("/imports/<job>")
def import_stop(job: str) -> Response:
    """Ask a running import to stop; it ends after the batch being written, with status 'gestopt'."""
    folder, status = _load(job)
    status = _abandoned(folder, status)
    if status["status"] != "bezig":
        raise _problem(409, "niet-bezig", "Import loopt niet",
                       f"Import '{job}' is niet bezig (status '{status['status']}'): er valt niets te stoppen.")
    (folder / STOP).touch()
    return Response(json.dumps(_public(status), ensure_ascii=False), status=202, mimetype="application/json",
                    headers={"Location": f"/imports/{job}", "Cache-Control": "no-store"})


@bp.get("/imports/<job>/<name>")
def import_download(job: str, name: str) -> Response:
    folder, status = _load(job)
    if name not in DOWNLOADS or status["status"] != "klaar":
        raise _problem(404, "niet-gevonden", "Niet gevonden", f"'{name}' is geen rapport van deze import.")
    # named after the bestuur's file, as `vr import` names them: two imports' reports do not overwrite each other
    stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in Path(status["bestand"]).stem)[:60].strip()
    return send_file(folder / name, as_attachment=True,
                     download_name=f"{Path(name).stem}-{stem}{Path(name).suffix}" if stem else name)
