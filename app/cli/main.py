"""`vr`: run and manage the register from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
from pathlib import Path

from app import paths
from app.cli import erasure as erasure_cli
from app.cli import erkenningen as erkenningen_cli
from app.config import Settings

DEMO_INITIATOR = ("OVO002949", "Digitaal Vlaanderen (demogegevens)")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir).absolute()
    if getattr(args, "base_url", None):
        settings.base_url = args.base_url
    if getattr(args, "store_url", None):
        settings.store_url = args.store_url
    return settings


def load_demo(register, path: Path = paths.DATA / "demo" / "verenigingen.json", quiet: bool = False) -> int:
    """Register the demo associations through the normal write path."""
    from tqdm import tqdm

    from app.domain.named_commands import Register
    from app.domain.versions import Initiator

    bodies = json.loads(path.read_text(encoding="utf-8"))
    initiator = Initiator(*DEMO_INITIATOR)
    for body in tqdm(bodies, desc="demogegevens", unit="vereniging", disable=quiet):
        register.handler.run(Register.from_body(body), initiator, reason="Demogegevens bij eerste start")
    return len(bodies)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.auth.keys import add_key
    from app.cli import waitress_server
    from app.factory import create_app
    from app.meldingen.delivery import start_delivery, timing
    from app.publication.import_api import MAX_UPLOAD
    from app.register import Register

    settings = _settings(args)
    timing()  # the meldingen settings too: a bad value is refused here, before anything starts
    taken = _port_taken(args.host, args.port)
    if taken:
        print(f"vr: {args.host}:{args.port} is niet vrij ({taken}); kies een andere --port of stop het proces "
              "dat er luistert.", file=sys.stderr)
        return 2
    host = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host
    settings.default_base_url = f"http://{host}:{args.port}"
    if args.workers and not settings.store_url:
        print("vr: --workers vraagt een gedeelde opslagserver: start er een met 'vr store-server' en geef "
              "--store-url (of VR_STORE_URL).", file=sys.stderr)
        return 2
    register = Register.open(settings)
    if not args.no_demo and register.handler.is_empty():
        count = load_demo(register)
        print(f"{count} demoverenigingen geregistreerd.")
    if not settings.keys_path.exists():
        key = add_key(settings.keys_path, "OVO000000", "Demobestuur", ["initiator"])
        demo_key = settings.data_dir / "demo-api-key.txt"
        demo_key.write_text(key + "\n", encoding="utf-8")
        print(f"Demo API-sleutel (rol initiator) aangemaakt in {demo_key}")
    where = settings.store_url or settings.store_dir
    if args.workers:
        from app.cli import workers

        register.close()  # every worker opens its own after the fork
        print(f"Verenigingsregister {settings.base}, luistert op {args.host}:{args.port}  (opslag: {where}, "
              f"{args.workers} processen)", flush=True)
        workers.serve(settings, args.host, args.port, args.workers, args.threads)
        return 0
    register.handler.validator.warm()
    app = create_app(register=register)
    threading.Thread(target=register.warm_sparql, name="sparql-start", daemon=True).start()
    delivery = start_delivery(register)  # meldingen: pushed by a background thread, apart from requests
    erasure_cli.daily_retention(register)  # personal data past VR_RETENTION_DAYS leaves the history
    erkenningen_cli.daily_refresh(register)  # erkenningen become Actief / Verlopen as days pass
    # the register's identity (its base IRI, stored with it) and where this process listens can differ
    print(f"Verenigingsregister {settings.base}, luistert op {args.host}:{args.port}  (opslag: {where})", flush=True)
    try:
        # poll(), not select(): select() fails on any descriptor numbered 1,024 or more, and the store
        # keeps one open per file of its database (up to the process's limit) as the register grows
        # slow clients: waitress reads requests without a thread per connection; these bound the connections
        # a slowloris can hold (on the internet, a buffering reverse proxy goes in front: README).
        # SIGTERM (service managers) answers the requests in flight, then closes the store and SHACL workers.
        # a body over what any endpoint takes is refused on its Content-Length, before waitress buffers it
        waitress_server.serve(app, host=args.host, port=args.port, threads=args.threads, ident="verenigingsregister",
                              asyncore_use_poll=True, connection_limit=1000, channel_timeout=30,
                              max_request_body_size=max(settings.max_body_bytes, MAX_UPLOAD) + (1 << 20))
    finally:
        if delivery is not None:
            delivery.stop()
        register.close()
    return 0


def _port_taken(host: str, port: int) -> str | None:
    """Why the register cannot listen there (in Dutch), or None; checked before anything starts, so a port in
    use is one line, not "luistert op …" followed by a traceback."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return "onbekende host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind(address)
        except OSError as exc:
            return {errno.EADDRINUSE: "al in gebruik", errno.EACCES: "geen toelating voor die poort",
                    errno.EADDRNOTAVAIL: "dat adres hoort niet bij deze machine"}.get(exc.errno, exc.strerror)
    return None


def cmd_store_server(args: argparse.Namespace) -> int:
    """Start the reference store server (`oxigraph serve`, PyPI package oxigraph) for the remote engine."""
    import shutil

    binary = Path(sys.executable).parent / "oxigraph"
    command = str(binary) if binary.exists() else shutil.which("oxigraph")
    if command is None:
        print("vr: de opslagserver 'oxigraph' is niet geïnstalleerd; installeer ze met "
              "'pip install oxigraph'.", file=sys.stderr)
        return 2
    location = Path(args.location or (Path(os.environ.get("VR_DATA_DIR", paths.ROOT / "var")) / "opslagserver"))
    location.mkdir(parents=True, exist_ok=True)
    print(f"Opslagserver op http://{args.host}:{args.port} (gegevens in {location}); "
          f"start het register met --store-url http://{args.host}:{args.port}", flush=True)
    from app.store.sandbox import forbid_connections

    if not forbid_connections():  # it only listens: a SERVICE call the checks missed cannot connect anywhere
        print("vr: let op: de opslagserver kan verbindingen maken (geen seccomp); alleen de controle van de "
              "query houdt SERVICE tegen.", file=sys.stderr, flush=True)
    os.execv(command, [command, "serve", "--location", str(location), "--bind", f"{args.host}:{args.port}",
                       "--timeout-s", str(args.timeout_s)])
    return 0  # not reached


def cmd_keys_add(args: argparse.Namespace) -> int:
    from app.auth.keys import add_key
    from app.validation import formats

    try:
        formats.ovo_code(args.ovo)  # ASCII 'OVO' + 6 digits: it becomes part of IRIs and authorisation checks
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = _settings(args)
    key = add_key(settings.keys_path, args.ovo, args.naam, args.role or ["initiator"])
    print(key)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from app.auth.keys import read_entries

    path = _settings(args).keys_path
    for stored, principal in read_entries(path) if path.exists() else []:
        print(f"{stored[:12]}  {principal.initiator.ovo}  {', '.join(sorted(principal.roles)):<22}  "
              f"{principal.initiator.naam}")
    return 0


def cmd_keys_remove(args: argparse.Namespace) -> int:
    from app.auth.keys import remove_keys

    path = _settings(args).keys_path
    try:
        gone = remove_keys(path, args.vingerafdruk) if path.exists() else []
    except ValueError as exc:
        print(f"vr: {exc}", file=sys.stderr)
        return 2
    if not gone:
        print(f"vr: geen sleutel met vingerafdruk '{args.vingerafdruk}' in {path}.", file=sys.stderr)
        return 2
    print(f"Ingetrokken: de sleutel van {gone[0].initiator.ovo} ({gone[0].initiator.naam}).")
    return 0


def cmd_load_demo(args: argparse.Namespace) -> int:
    from app.register import Register

    register = Register.open(_settings(args))
    if not register.handler.is_empty() and not args.force:
        print("Het register bevat al verenigingen; gebruik --force om de demogegevens toch toe te voegen.")
        return 1
    print(f"{load_demo(register)} demoverenigingen geregistreerd.")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.register:
        return _import_remote(args)
    if not args.ovo or not args.naam:
        print("Geef --ovo en --naam (het bestuur dat importeert), of --register en --key-file.", file=sys.stderr)
        return 2
    from tqdm import tqdm

    from app.domain.versions import Initiator
    from app.exchange.importer import BATCH, left_out, outcome_summary, run_import
    from app.exchange.spreadsheet import FileRejected
    from app.register import Register

    source = Path(args.file)
    report_dir = _report_dir(args, source)
    feedback = report_dir / f"terugkoppeling-{_round_stem(source)}.xlsx"
    settings = _settings(args)
    if not settings.store_url and not settings.store_dir.exists():
        if not (args.data_dir or os.environ.get("VR_DATA_DIR")):
            print(f"Er staat geen register in {settings.data_dir.resolve()}: geef de map van het register met "
                  "--data-dir (of VR_DATA_DIR), of importeer via de draaiende server met --register URL --key-file "
                  "BESTAND. Er werd niets gelezen of geschreven.", file=sys.stderr)
            return 2
        print(f"Er stond nog geen register in {settings.data_dir}: een nieuw register wordt aangemaakt.",
              file=sys.stderr)
    register = Register.open(settings)
    bar = tqdm(desc="import", unit="rij", disable=args.quiet)

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        report = run_import(source, args.soort, register.handler, Initiator(args.ovo, args.naam),
                            dry_run=args.dry_run, reason=args.reden, progress=progress, feedback=feedback,
                            batch_size=args.batch or BATCH)
    except FileRejected as exc:
        print(f"Bestand geweigerd, er werd niets geschreven: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        register.close()
    report.write(report_dir, source)
    print(outcome_summary(report))
    print(f"Rapporten in {report_dir}/ (importrapport.xlsx, meldingen/dubbels/resultaat .csv); "
          f"terugkoppeling voor het bestuur: {feedback}")
    return 1 if left_out(report.counts()) else 0  # rows that were not imported: a script must notice


def _round_stem(source: Path) -> str:
    """The list's own name: round 2 imports 'terugkoppeling-lijst.xlsx', whose feedback is again
    'terugkoppeling-lijst.xlsx', not 'terugkoppeling-terugkoppeling-lijst.xlsx'."""
    return re.sub(r"^(terugkoppeling-)+", "", source.stem) or source.stem


def _report_dir(args: argparse.Namespace, source: Path) -> Path:
    """--report, else `importrapport-<file>` next to earlier rounds: an earlier round's reports are never
    overwritten (`importrapport-<file>-2`, `-3`, …)."""
    if args.report:
        return Path(args.report)
    base = Path(f"importrapport-{source.stem}")
    for round_number in range(1, 10_000):
        folder = base if round_number == 1 else Path(f"{base}-{round_number}")
        if not folder.exists() or not any(folder.iterdir()):
            return folder
    return base


def _import_remote(args: argparse.Namespace) -> int:
    """The same import through a running register's HTTP import endpoint (POST /imports)."""
    import requests

    if not args.key_file:
        print("--register vraagt ook --key-file (bestand met de API-sleutel van het bestuur).", file=sys.stderr)
        return 2
    base = args.register.rstrip("/")
    headers = {"Authorization": "Bearer " + Path(args.key_file).read_text(encoding="utf-8").strip()}
    source = Path(args.file)
    with source.open("rb") as handle:
        answer = requests.post(f"{base}/imports", headers=headers, timeout=300,
                               files={"bestand": (source.name, handle)},
                               data={"soort": args.soort, "proef": "ja" if args.dry_run else "nee",
                                     "reden": args.reden or ""})
    if answer.status_code != 202:
        print(f"Import geweigerd ({answer.status_code}): {_problem_text(answer)}", file=sys.stderr)
        return 2
    location = base + answer.headers["Location"]
    try:
        status = _follow(location, headers, args.quiet)
    except KeyboardInterrupt:  # Ctrl-C: the import in the register stops too, after the batch being written
        requests.delete(location, headers=headers, timeout=60)
        print("Stoppen gevraagd; de import stopt na de batch die geschreven wordt.", file=sys.stderr)
        status = _follow(location, headers, quiet=True)
    if status["status"] != "klaar":
        said = status.get("reden", status["status"])
        print(said if status["status"] != "geweigerd" else f"Bestand geweigerd, er werd niets geschreven: {said}",
              file=sys.stderr)
        return 2
    report_dir = _report_dir(args, source)
    report_dir.mkdir(parents=True, exist_ok=True)
    for name, link in status["downloads"].items():
        target = report_dir / (f"terugkoppeling-{_round_stem(source)}.xlsx" if name == "terugkoppeling.xlsx" else name)
        download = requests.get(base + link, headers=headers, timeout=300)
        if download.status_code != 200:  # never an error answer saved as a report
            print(f"{status['tekst']}\nHet rapport {name} kon niet opgehaald worden ({download.status_code}: "
                  f"{_problem_text(download)}); haal het later op met GET {base}{link}.", file=sys.stderr)
            return 2
        target.write_bytes(download.content)
    print(status["tekst"])
    print(f"Rapporten in {report_dir}/")
    from app.exchange.importer import left_out

    return 1 if left_out(status.get("samenvatting") or {}) else 0


def _follow(location: str, headers: dict, quiet: bool) -> dict:
    """Poll an import until it is no longer running."""
    import time

    import requests

    while True:
        status = requests.get(location, headers=headers, timeout=60).json()
        if not quiet:
            print(f"import: {status.get('rijen', 0)} rijen verwerkt", file=sys.stderr, flush=True)
        if status["status"] != "bezig":
            return status
        time.sleep(0.5)


def _problem_text(answer) -> str:
    try:
        return answer.json().get("detail", answer.text)
    except ValueError:
        return answer.text[:500]


def cmd_kbo_sync(args: argparse.Namespace) -> int:
    from app.exchange.kbo_open_data import DumpRejected, sync
    from app.register import Register

    register = Register.open(_settings(args))
    try:
        report = sync(Path(args.map), register.handler)
    except DumpRejected as exc:
        print(f"vr: {exc} Er werd niets gewijzigd.", file=sys.stderr)
        return 2
    finally:
        register.close()
    print(f"KBO: {len(report.registered)} geregistreerd, {len(report.updated)} bijgewerkt, "
          f"{len(report.stopped)} gestopt, {len(report.unchanged)} ongewijzigd, {len(report.skipped)} overgeslagen, "
          f"{len(report.rejected_values)} ongeldige contactgegevens niet overgenomen")
    for number, reason in report.skipped:
        print(f"  overgeslagen {number}: {reason}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.exchange import export
    from app.publication.jsonld import CONTEXT_PATH
    from app.register import existing_store
    from app.store.audience import PUBLIC, REGISTER

    if args.register:
        return _export_over_http(args)
    settings = _settings(args)
    with existing_store(settings) as store:  # reads only: creates nothing where it reads
        target = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
        try:
            reader = REGISTER if args.beheer else PUBLIC
            for chunk in export.stream(store, args.format, reader, settings.base + CONTEXT_PATH):
                target.write(chunk)
        finally:
            if args.output:
                target.close()
    return 0


def _export_over_http(args: argparse.Namespace) -> int:
    """Through the running register: its (streamed) dump endpoints, with a key for --beheer."""
    import requests

    headers = {}
    if args.key_file:
        headers["Authorization"] = "Bearer " + Path(args.key_file).read_text(encoding="utf-8").strip()
    elif args.beheer:
        print("vr: --beheer via --register vraagt een sleutel (--key-file).", file=sys.stderr)
        return 2
    url = f"{args.register.rstrip('/')}/dumps/{'beheer/' if args.beheer else ''}verenigingen.{args.format}"
    try:
        with requests.get(url, headers=headers, stream=True, timeout=60) as response:
            if response.status_code != 200:
                print(f"vr: het register antwoordde {response.status_code} op {url}.", file=sys.stderr)
                return 2
            target = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
            try:
                for chunk in response.iter_content(64 * 1024):
                    target.write(chunk)
            finally:
                if args.output:
                    target.close()
    except requests.RequestException as exc:
        print(f"vr: het register op {args.register} antwoordt niet ({type(exc).__name__}).", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vr", description="Verenigingsregister")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="map voor de Oxigraph-opslag en sleutels (standaard ./var of VR_DATA_DIR)")
        p.add_argument("--base-url", help="basis van de URI's; standaard die van het register zelf (bij een nieuw "
                                          "register http://localhost:<poort> of VR_BASE_URL)")
        p.add_argument("--store-url", help="gedeelde SPARQL 1.1-opslagserver (bv. http://127.0.0.1:7878, zie "
                                           "'vr store-server') in plaats van de ingebouwde opslag; standaard "
                                           "VR_STORE_URL. Zo werkt dit commando ook terwijl het register draait.")

    serve = sub.add_parser("serve", help="start het register (laadt demogegevens bij de eerste start)")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--no-demo", action="store_true", help="geen demogegevens laden in een leeg register")
    serve.add_argument("--workers", type=int, default=0,
                       help="aantal processen (gunicorn); vraagt een gedeelde opslagserver (--store-url)")
    serve.set_defaults(func=cmd_serve)

    store = sub.add_parser("store-server", help="start de gedeelde opslagserver (oxigraph serve) voor --store-url")
    store.add_argument("--location", help="map voor de gegevens (standaard ./var/opslagserver)")
    store.add_argument("--host", default="127.0.0.1")
    store.add_argument("--port", type=int, default=7878)
    store.add_argument("--timeout-s", type=int, default=int(float(os.environ.get("VR_STORE_QUERY_TIMEOUT", 12))),
                       help="maximale duur van één query in seconden (standaard VR_STORE_QUERY_TIMEOUT of 12; het "
                            "register rekent erop: een opgegeven SPARQL-query houdt zolang haar plaats)")
    store.set_defaults(func=cmd_store_server)

    keys = sub.add_parser("keys", help="API-sleutels beheren")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_file = "de sleutels staan in <datamap>/keys.toml of VR_KEYS_FILE; elk proces van het register leest ze " \
                "opnieuw als het bestand verandert (ook terwijl het draait)"
    add = keys_sub.add_parser("add", help="maak een sleutel voor een organisatie (de sleutel wordt één keer getoond)",
                              description=keys_file)
    add.add_argument("--data-dir", help="map van het register (standaard ./var of VR_DATA_DIR)")
    add.add_argument("--ovo", required=True, help="OVO-code van de organisatie, bv. OVO000001")
    add.add_argument("--naam", required=True, help="naam van de organisatie")
    add.add_argument("--role", action="append", choices=["lezer", "initiator", "admin"],
                     help="rol, herhaalbaar: lezer (lezen, ook beperkte gegevens), initiator (ook schrijven; "
                          "standaard), admin (ook auditlog en beheer)")
    add.set_defaults(func=cmd_keys_add)
    listed = keys_sub.add_parser("list", help="toon de sleutels (organisatie, rollen, begin van de vingerafdruk)",
                                 description=keys_file)
    listed.add_argument("--data-dir", help="map van het register (standaard ./var of VR_DATA_DIR)")
    listed.set_defaults(func=cmd_keys_list)
    remove = keys_sub.add_parser("remove", help="trek een sleutel in (meteen, in elk proces)", description=keys_file)
    remove.add_argument("--data-dir", help="map van het register (standaard ./var of VR_DATA_DIR)")
    remove.add_argument("vingerafdruk", help="de eerste tekens (minstens 8) van de vingerafdruk uit 'vr keys list'")
    remove.set_defaults(func=cmd_keys_remove)

    imp = sub.add_parser("import", help="importeer verenigingen uit .csv of .xlsx (sjablonen in data/templates)")
    common(imp)
    imp.add_argument("file")
    imp.add_argument("--soort", choices=["verenigingen", "kbo"], default="verenigingen",
                     help="verenigingen = feitelijke verenigingen/VZER, kbo = verenigingen met rechtspersoonlijkheid")
    imp.add_argument("--dry-run", action="store_true",
                     help="ronde 1: enkel nakijken en rapporteren (met terugkoppelingsbestand), niets schrijven")
    imp.add_argument("--ovo", help="OVO-code van het bestuur dat importeert (rechtstreeks in de opslag)")
    imp.add_argument("--naam", help="naam van het bestuur")
    imp.add_argument("--register", help="URL van een draaiend register: importeer via zijn import-endpoint")
    imp.add_argument("--key-file", help="bestand met de API-sleutel van het bestuur (met --register)")
    imp.add_argument("--report", help="map voor de rapporten (standaard importrapport-<bestand>, of -2, -3, … "
                     "als die al bestaat: een vorige ronde blijft staan)")
    imp.add_argument("--reden", help="reden die in de provenance van elke versie komt")
    imp.add_argument("--quiet", action="store_true", help="geen voortgangsbalk")
    imp.add_argument("--batch", type=int, default=None, help="rijen per transactie (standaard 5000)")
    imp.set_defaults(func=cmd_import)

    kbo = sub.add_parser("kbo-sync", help="neem verenigingen over uit een KBO open-data dump (map met csv's)")
    common(kbo)
    kbo.add_argument("map", help="map met enterprise.csv, denomination.csv, address.csv, contact.csv")
    kbo.set_defaults(func=cmd_kbo_sync)

    exp = sub.add_parser("export", help="schrijf het hele register weg (gestreamd)")
    common(exp)
    exp.add_argument("--format", choices=["nq", "ttl", "jsonld", "csv"], default="nq")
    exp.add_argument("--beheer", action="store_true", help="met afgeschermde gegevens (vertegenwoordigers, IBAN)")
    exp.add_argument("-o", "--output", help="bestand (standaard stdout)")
    exp.add_argument("--register", help="lees via het draaiende register op deze URL (bv. http://localhost:8080), "
                                        "ook terwijl het de ingebouwde opslag gebruikt")
    exp.add_argument("--key-file", help="bestand met een API-sleutel (nodig voor --beheer met --register)")
    exp.set_defaults(func=cmd_export)

    erasure_cli.add_parser(sub, common)
    erkenningen_cli.add_parser(sub, common)

    demo = sub.add_parser("load-demo", help="registreer de demoverenigingen uit data/demo/")
    common(demo)
    demo.add_argument("--force", action="store_true")
    demo.set_defaults(func=cmd_load_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.auth.keys import KeysFileInvalid
    from app.config import SettingInvalid
    from app.register import NoRegister
    from app.store import BaseMismatch
    from app.store.oxigraph_store import StoreLocked
    from app.store.remote import StoreUnavailable

    args = build_parser().parse_args(argv)
    _logging(args)
    # what the register writes (the store with its restricted graphs, uploads, keys) is no one else's to read
    os.umask(os.umask(0o027) | 0o027)
    try:
        return args.func(args)
    except BrokenPipeError:  # `vr export … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when stdout is flushed
        return 0
    except (BaseMismatch, NoRegister, StoreLocked, StoreUnavailable, SettingInvalid, KeysFileInvalid) as exc:
        print(f"vr: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        message = _said(exc, getattr(args, "register", None))
        if message is None:
            raise
        print(f"vr: {message}", file=sys.stderr)
        return 2


def _logging(args: argparse.Namespace) -> None:
    """Log lines with time and process (several processes write to one journal); `vr serve` also logs one line
    per request (app/publication/health.py) unless VR_ACCESS_LOG=0."""
    logging.basicConfig(format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    if getattr(args, "func", None) is cmd_serve and os.environ.get("VR_ACCESS_LOG", "1") != "0":
        logging.getLogger("vr.toegang").setLevel(logging.INFO)


def _said(exc: Exception, register: str | None) -> str | None:
    """One Dutch line for what a user can fix (a file they named, a register that does not answer);
    None for anything else, which keeps its traceback."""
    if type(exc).__module__.split(".")[0] in ("requests", "urllib3"):
        return (f"{register or 'de server'} antwoordt niet of niet volledig ({type(exc).__name__}); "
                "draait het register op dat adres?")
    if isinstance(exc, OSError) and exc.filename is None and str(exc).startswith("IO error"):
        # RocksDB (the embedded store) cannot open its files: a read-only or foreign data directory
        cause = "het bestandssysteem is alleen-lezen" if "Read-only" in str(exc) else \
            "geen toegang" if "Permission denied" in str(exc) else "een schijffout"
        return (f"De opslag kan niet geopend worden: {cause}. De gebruiker van de dienst moet de datamap kunnen "
                "lezen en schrijven (ook om enkel te lezen: de opslag schrijft haar logboek).")
    if not isinstance(exc, OSError) or exc.filename is None:  # e.g. the store's own I/O: keep the details
        return None
    name = Path(exc.filename)
    if isinstance(exc, FileNotFoundError) and not name.parent.exists():
        return f"{name}: de map {name.parent} bestaat niet."
    return f"{name}: {_FILE_ERRORS.get(type(exc), 'kan niet gelezen of geschreven worden')} ({exc.strerror or exc})."


_FILE_ERRORS = {FileNotFoundError: "bestaat niet", IsADirectoryError: "is een map, geen bestand",
                NotADirectoryError: "een deel van het pad is geen map", PermissionError: "geen toegang",
                FileExistsError: "bestaat al"}


if __name__ == "__main__":
    sys.exit(main())
