"""Streaming exports over HTTP and `vr export`: every format parses, public ones hold no personal data."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import rdflib

from app.cli.main import load_demo
from app.exchange import export
from app.store.audience import PUBLIC
from tests.conftest import Keys

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("vertegenwoordiger", "insz", "BE71", "titularis")


def test_public_dumps_in_every_format(register, client):
    load_demo(register, quiet=True)
    insz = json.loads((ROOT / "data/demo/verenigingen.json").read_text())[0]["vertegenwoordigers"][0]["insz"]
    for fmt, media_type in export.FORMATS.items():
        response = client.get(f"/dumps/verenigingen.{fmt}")
        assert response.status_code == 200 and response.mimetype == media_type
        if fmt == "xlsx":  # a zip: its sheet's rows, as text
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(response.data))
            lines = [",".join(str(v or "") for v in row) for row in book["verenigingen"].iter_rows(values_only=True)]
            assert len(lines) == 65 and lines[0].startswith("vCode,")
            body = "\n".join(lines)
        else:
            body = response.get_data(as_text=True)
        assert insz not in body and "vertegenwoordiger" not in body.lower()
        if fmt == "nq":
            graph = rdflib.Dataset(default_union=True)
            graph.parse(data=body, format="nquads")
            assert len(set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(
                "https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging")))) == 64
        elif fmt == "ttl":
            assert len(rdflib.Graph().parse(data=body, format="turtle")) > 64 * 30
        elif fmt == "jsonld":
            assert len(json.loads(body)["@graph"]) == 64
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(body)))
            assert len(rows) == 64 and rows[0]["vCode"].startswith("V") and "vertegenwoordigers" not in rows[0]


def test_restricted_dump_needs_a_key_and_has_personal_data(register, client, keys):
    load_demo(register, quiet=True)
    assert client.get("/dumps/beheer/verenigingen.csv").status_code == 401
    response = client.get("/dumps/beheer/verenigingen.csv", headers=Keys.auth(keys.reader))
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert all(row["vertegenwoordigers"] for row in rows)


def test_export_streams_with_bounded_memory(register):
    load_demo(register, quiet=True)
    tracemalloc.start()
    size = sum(len(chunk) for chunk in export.stream(register.store, "nq", PUBLIC, "http://x/ctx"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size > 100_000
    assert peak < size  # never the whole dump in memory at once


def test_vr_export_command(tmp_path, settings):
    from app.register import Register

    register = Register.open(settings)
    load_demo(register, quiet=True)
    del register
    gc.collect()  # pyoxigraph releases the store's lock when the Store is collected
    target = tmp_path / "dump.ttl"
    env = dict(os.environ, VR_DATA_DIR=str(settings.data_dir), VR_BASE_URL=settings.base_url, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "app.cli.main", "export", "--format", "ttl", "-o", str(target)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(rdflib.Graph().parse(target, format="turtle")) > 64 * 30


def test_vr_export_creates_nothing_where_it_only_reads(tmp_path):
    """Pointed at a place without a register, export says so and leaves no directory, secret or index behind."""
    empty = tmp_path / "geen-register"
    env = {k: v for k, v in os.environ.items() if k not in ("VR_STORE_URL", "VR_BASE_URL")}
    done = subprocess.run([sys.executable, "-m", "app.cli.main", "export", "--format", "nq", "--data-dir", str(empty)],
                          cwd=ROOT, env=dict(env, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "geen register" in done.stderr and str(empty) in done.stderr
    assert not empty.exists()
