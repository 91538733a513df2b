"""LDES harvest: the npm ldes-client replicating from us vs the same client on the same pages served
statically by a plain file server, in the same run.

    python bench/bench_ldes.py [--members 100000] [--cache DIR]

1. Builds a register with N registrations through the bulk path (CommandHandler.register_batch:
   batch SHACL, one transaction per batch — not HTTP), so N stream members.
2. Serves it (`vr serve`) and replicates the whole public stream with `ldes-client` twice: the first
   harvest renders every full page once (then kept as bytes), the second is the steady state.
3. Saves every page the client needs (exactly the bytes and headers we served) as files, stops our
   server and serves the files on the same port with a plain file server (so page IRIs equal URLs),
   and replicates again: the client's own limit.
Prints members/s of each harvest and our steady state as a share of the file server's.
"""

from __future__ import annotations

import argparse
import copy
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph  # noqa: E402

from app.config import Settings  # noqa: E402
from app.domain.parse import parse_registration  # noqa: E402
from app.domain.versions import Initiator, Provenance, gemeente_key, sequence_key  # noqa: E402
from app.namespaces import (  # noqa: E402
    GRAPH_SYSTEM,
    GRAPH_VERSIONS_PUBLIC,
    VRX,
)
from app.register import Register  # noqa: E402
from app.store.audience import REGISTER as REGISTER_AUDIENCE  # noqa: E402

CLIENT = ROOT / ".ldes-client" / "node_modules" / ".bin" / "ldes-client"
ACCEPT = "application/n-quads"  # what the client asks first
BATCH = 1000
G_SYSTEM = pyoxigraph.NamedNode(GRAPH_SYSTEM)
G_VPUB = pyoxigraph.NamedNode(GRAPH_VERSIONS_PUBLIC)
INTEGER = pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def build(data_dir: Path, base: str, count: int, templates: int = 2000) -> None:
    """N registrations: up to `templates` through the bulk write path (register_batch: batch SHACL, one
    transaction per batch), the rest as copies of those records with their own V-code, sequence and
    time, bulk-loaded (the members are then as real as the templates, at a fraction of the time)."""
    demo = json.loads((ROOT / "data" / "demo" / "verenigingen.json").read_text(encoding="utf-8"))
    register = Register.open(Settings(data_dir=data_dir, base_url=base, shacl_workers=0))
    register.handler.listeners.clear()  # the search index is not part of harvesting
    prov = Provenance("registratie", Initiator("OVO000001", "Benchmark"))
    templates = min(count, templates)
    for start in range(0, templates, BATCH):
        items = []
        for i in range(start, min(start + BATCH, templates)):
            body = copy.deepcopy(demo[i % len(demo)])
            body["naam"] = f"{body['naam']} {i}"
            for locatie in body["locaties"]:
                locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}", land="Nederland")
            items.append((parse_registration(body), prov, None))
        results = register.handler.register_batch(items)
        refused = [r for r in results if not getattr(r, "created", False)]
        assert not refused, refused[:3]
    copy_records(register, templates, count)
    register.store.recount()  # the copies were loaded outside the write path: counters from the data
    register.index._set_sequence(count, [])  # nothing to index for this bench: mark the search index current
    register.index.db.commit()
    register.close()


def copy_records(register: Register, templates: int, count: int) -> None:
    """Members templates+1…count as copies of members 1…templates, loaded in bulk."""
    store = register.store.raw
    texts = [template_text(register, sequence) for sequence in range(1, templates + 1)]
    last = datetime.fromisoformat(texts[-1][1].replace("Z", "+00:00"))
    chunk: list[str] = []
    for sequence in range(templates + 1, count + 1):
        text, stamp, vcode = texts[(sequence - 1) % templates]
        number = 1000 + sequence
        when = (last + timedelta(milliseconds=sequence - templates)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        text = text.replace(vcode, f"V{number:07d}").replace(stamp, when)
        text = text.replace("<urn:vr:sequentie:SEQ>", f"<urn:vr:sequentie:{sequence}>")
        text = text.replace('"SEQ"^^', f'"{sequence}"^^').replace('"VNUM"^^', f'"{number}"^^')
        chunk.append(text)
        if len(chunk) == BATCH or sequence == count:
            store.bulk_load("".join(chunk).encode(), format=pyoxigraph.RdfFormat.N_QUADS)
            chunk = []


def template_text(register: Register, sequence: int) -> tuple[str, str, str]:
    """One record (state, version 1, its system entries) as N-Quads with SEQ/VNUM placeholders."""
    store = register.store.raw
    member = register.store.page([sequence], REGISTER_AUDIENCE, with_triples=False)[0]
    version, stamp = member.version, member.timestamp
    vc_iri = version.value.rsplit("/versie/", 1)[0]
    vcode = vc_iri.rsplit("/", 1)[1]
    quads = register.store.record(vc_iri, REGISTER_AUDIENCE)
    quads += register.store.version_tree(version.value, REGISTER_AUDIENCE)
    quads += [q for q in store.quads_for_pattern(pyoxigraph.NamedNode(vc_iri), None, None, G_SYSTEM)]
    quads.append(pyoxigraph.Quad(sequence_key(sequence), pyoxigraph.NamedNode(VRX + "versie"), version, G_SYSTEM))
    for quad in store.quads_for_pattern(version, pyoxigraph.NamedNode(VRX + "gemeente"), None, G_VPUB):
        key = gemeente_key(quad.object.value.rsplit("/", 1)[1])
        number = pyoxigraph.Literal(str(sequence), datatype=INTEGER)
        quads.append(pyoxigraph.Quad(key, pyoxigraph.NamedNode(VRX + "sequentie"), number, G_SYSTEM))
    text = pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS).decode()
    text = text.replace(f"<urn:vr:sequentie:{sequence}>", "<urn:vr:sequentie:SEQ>")
    text = re.sub(rf'(<{re.escape(VRX)}sequentie> )"{sequence}"\^\^', r'\1"SEQ"^^', text)
    text = re.sub(rf'(<{re.escape(VRX)}vcodeNummer> )"\d+"\^\^', r'\1"VNUM"^^', text)
    return text, stamp, vcode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(cache: Path | None, tmp: str, members: int, templates: int) -> tuple[Path, str]:
    """A store with `members` versions: built now, or reused from --cache (IRIs embed the port, so it is kept)."""
    data_dir = (cache / f"register-{members}") if cache else Path(tmp) / "register"
    port_file = data_dir / "bench-port"
    if cache and port_file.exists():
        print(f"reusing {members} members built earlier in {data_dir}")
        return data_dir, f"http://127.0.0.1:{int(port_file.read_text())}"
    base = f"http://127.0.0.1:{free_port()}"
    start = time.perf_counter()
    build(data_dir, base, members, templates)
    print(f"built {members} members (bulk write path + bulk-loaded copies) in {time.perf_counter() - start:.0f} s")
    port_file.write_text(base.rsplit(":", 1)[1])
    return data_dir, base


def harvest(url: str, members: int) -> float:
    """Seconds the npm client needs to replicate the whole stream (all members emitted)."""
    start = time.perf_counter()
    done = subprocess.run([str(CLIENT), url], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    emitted = done.stdout.count("<http://purl.org/dc/terms/isVersionOf>")
    assert done.returncode == 0 and emitted == members, (done.returncode, emitted, done.stderr[-500:])
    return seconds


def save_pages(base: str, folder: Path) -> int:
    """Every page the client fetches, with the bytes and headers we serve, as files."""
    todo, seen = [base + "/ldes/verenigingen", base + "/ldes/verenigingen/tijd"], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        request = urllib.request.Request(url, headers={"Accept": ACCEPT})
        with urllib.request.urlopen(request) as answer:
            body = answer.read()
            headers = {k: answer.headers[k] for k in ("Content-Type", "Cache-Control") if answer.headers[k]}
        name = urllib.parse.quote(urllib.parse.urlsplit(url).path, safe="")
        (folder / name).write_bytes(body)
        (folder / (name + ".headers")).write_text(json.dumps(headers))
        if url.endswith("/tijd"):
            pattern = "<" + re.escape(base) + r"/ldes/verenigingen/tijd/(\d+)>"
            todo += [f"{base}/ldes/verenigingen/tijd/{k}" for k in set(re.findall(pattern, body.decode()))]
    return len(seen)


class FileHandler(http.server.SimpleHTTPRequestHandler):
    """A plain file server: the URL path names a file; its saved Content-Type and Cache-Control are sent."""

    folder: Path

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        path = self.folder / urllib.parse.quote(urllib.parse.urlsplit(self.path).path, safe="")
        if not path.exists():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        for key, value in json.loads((path.parent / (path.name + ".headers")).read_text()).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve_files(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (FileHandler,), {"folder": folder})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_until_up(base: str, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/ldes/verenigingen/tijd", timeout=30):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {base} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=2000, help="records written through the write path")
    parser.add_argument("--cache", type=Path, help="keep (and reuse) the built store under this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, base = prepare(args.cache, tmp, args.members, args.templates)
        port = int(base.rsplit(":", 1)[1])
        env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=base, VR_SHACL_WORKERS="0")
        server = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pages = Path(tmp) / "pages"
        pages.mkdir()
        try:
            wait_until_up(base)
            first = harvest(base + "/ldes/verenigingen", args.members)
            ours = harvest(base + "/ldes/verenigingen", args.members)
            saved = save_pages(base, pages)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
        files = serve_files(pages, port)
        try:
            static = harvest(base + "/ldes/verenigingen", args.members)
        finally:
            files.shutdown()
    n = args.members
    print(f"{saved} pages; members/s of the npm ldes-client (N-Quads, {n} members):")
    print(f"  first harvest from us (every full page rendered once) : {n / first:8.0f}  ({first:.1f} s)")
    print(f"  harvest from us (pages served as bytes)               : {n / ours:8.0f}  ({ours:.1f} s)")
    print(f"  same pages from a plain file server                   : {n / static:8.0f}  ({static:.1f} s)")
    print(f"  ours / file server: {static / ours:.0%} (target >= 80 %); first harvest: {static / first:.0%}")


if __name__ == "__main__":
    main()
