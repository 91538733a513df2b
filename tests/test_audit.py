"""The audit log records every read and write of restricted data, and only admins can read it."""

from __future__ import annotations

import os

from tests.conftest import Keys, valid_body


def test_restricted_reads_and_writes_are_logged_public_reads_are_not(client, keys, settings):
    auth = Keys.auth(keys.initiator)
    client.post("/verenigingen", json=valid_body(), headers=auth)
    client.get("/doc/vereniging/V0001001.ttl")  # public: not logged
    client.get("/doc/vereniging/V0001001.ttl", headers=Keys.auth(keys.reader))
    client.get("/dumps/beheer/verenigingen.csv", headers=Keys.auth(keys.reader)).get_data()
    client.patch("/verenigingen/V0001001", json={"naam": "X"}, headers={**auth, "Content-Type":
                                                                         "application/merge-patch+json"})
    events = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"]
    assert [(e["operatie"], e["initiator"], e["vCode"]) for e in reversed(events)] == [
        ("registratie", "OVO000001", "V0001001"), ("lezen", "OVO000003", "V0001001"), ("dump", "OVO000003", None),
        ("schrijven (PATCH)", "OVO000001", "V0001001")]
    assert all(e["ip"] == "127.0.0.1" and e["tijdstip"].endswith("Z") for e in events)
    filtered = client.get("/audit?initiator=OVO000003", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"]
    assert {e["initiator"] for e in filtered} == {"OVO000003"}
    lines = (settings.data_dir / "audit.log").read_text().splitlines()
    assert len(lines) == 4  # append-only JSON lines on disk


def test_only_admins_read_the_audit_log(client, keys):
    assert client.get("/audit").status_code == 401
    assert client.get("/audit", headers=Keys.auth(keys.initiator)).status_code == 403


def _break_audit_log(settings) -> None:
    """Make the log unwritable in a way that holds for root too: a directory where the file should be."""
    path = settings.data_dir / "audit.log"
    if path.exists():
        path.rename(path.with_suffix(".bewaard"))
    path.mkdir(parents=True)


def _repair_audit_log(settings) -> None:
    path = settings.data_dir / "audit.log"
    path.rmdir()
    if path.with_suffix(".bewaard").exists():
        path.with_suffix(".bewaard").rename(path)


def test_an_unwritable_audit_log_refuses_writes_and_commits_nothing(client, keys, settings, register):
    from tests.conftest import dump

    auth = Keys.auth(keys.initiator)
    idem = {**auth, "Idempotency-Key": "k1"}
    assert client.post("/verenigingen", json=valid_body(), headers=auth).status_code == 201
    before = dump(register)
    _break_audit_log(settings)
    for response in (
            client.post("/verenigingen", json=valid_body(naam="Tweede Club"), headers=idem),
            client.patch("/verenigingen/V0001001", json={"naam": "X"},
                         headers={**auth, "Content-Type": "application/merge-patch+json"}),
            client.get("/doc/vereniging/V0001001.ttl", headers=Keys.auth(keys.reader))):
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith("/audit-onbeschikbaar")
        assert response.headers["Retry-After"] == "30"  # every 503 says when to retry
    assert dump(register) == before  # refused writes left no trace, and no restricted read went out
    _repair_audit_log(settings)
    retried = client.post("/verenigingen", json=valid_body(naam="Tweede Club"), headers=idem)
    assert retried.status_code == 201  # (the refused attempt's V-code stays unused, like any refusal's)
    events = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"]
    assert [(e["operatie"], e["vCode"]) for e in reversed(events)] == [("registratie", "V0001001"),
                                                                     ("registratie", retried.get_json()["vCode"])]
    assert events[0]["sequentie"] == register.handler.latest_sequence  # logged with the sequence it got


def test_a_failing_fsync_of_the_audit_log_refuses_the_write(client, keys, register, monkeypatch):
    """Entries of a group commit are fsync'd together before its transaction: a failing fsync writes nothing."""
    from tests.conftest import dump

    auth = Keys.auth(keys.initiator)
    assert client.post("/verenigingen", json=valid_body(), headers=auth).status_code == 201
    before = dump(register)

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    response = client.post("/verenigingen", json=valid_body(naam="Tweede Club"), headers=auth)
    assert response.status_code == 503 and response.get_json()["type"].endswith("/audit-onbeschikbaar")
    assert dump(register) == before
    monkeypatch.undo()
    assert client.post("/verenigingen", json=valid_body(naam="Tweede Club"), headers=auth).status_code == 201


def test_every_restricted_surface_is_audited_by_the_store_reader(client, keys, register):
    """Each surface that reads restricted data through the store gets its audit entry from the reader
    (app/store: the audience carries the hook), naming what was actually read."""
    auth = Keys.auth(keys.initiator)
    client.post("/verenigingen", json=valid_body(), headers=auth)
    client.patch("/verenigingen/V0001001", json={"naam": "Andere naam"},
                 headers={**auth, "Content-Type": "application/merge-patch+json"})
    reader = Keys.auth(keys.reader)
    for path in ("/doc/vereniging/V0001001.ttl", "/doc/vereniging/V0001001/versie/2.ttl",
                 "/doc/vereniging/V0001001/historiek.ttl", "/ldes/beheer/verenigingen/tijd/1",
                 "/dumps/beheer/verenigingen.nq"):
        response = client.get(path, headers=reader)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert "an.peeters@example.be" in response.get_data(as_text=True), path  # restricted data went out...
        event = client.get("/audit?initiator=OVO000003", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"][0]
        assert event["endpoint"] == f"GET {path}", (path, event)  # ...and was audited, with what was read
        assert event["vCode"] == "V0001001" or event.get("aantal") == 1, event
    public = client.get("/doc/vereniging/V0001001/historiek.ttl")
    assert public.status_code == 200 and "an.peeters@example.be" not in public.get_data(as_text=True)
    events = client.get("/audit?initiator=OVO000003", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"]
    assert [e["operatie"] for e in reversed(events)] == ["lezen", "lezen", "historiek", "ldes", "dump"]


def test_a_restricted_read_is_audited_without_any_blueprint(app, keys, register, settings):
    """The reader itself logs: a restricted read made straight on the store, in a request but outside
    every blueprint, is on record before the data is returned; a public read is not; and when the log
    cannot be written the reader refuses to hand the data over."""
    import pytest

    from app.auth import audit
    from app.auth.access import principal
    from app.domain.mapping import vereniging_iri
    from app.validation.errors import CommandRejected

    with app.test_client() as client:
        client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator))
    iri = vereniging_iri(settings.base, "V0001001")
    with app.test_request_context("/elders", headers=Keys.auth(keys.reader)):
        before = len(audit.events())
        assert register.store.record(iri, audit.audience(None, "lezen"))  # public: nothing to log
        assert len(audit.events()) == before
        quads = register.store.record(iri, audit.audience(principal(), "lezen"))
        assert any("85073003328" in str(q.object) for q in quads)
        logged = audit.events()[before:]
        assert [(e["operatie"], e["initiator"], e["vCode"], e["endpoint"]) for e in logged] == [
            ("lezen", "OVO000003", "V0001001", "GET /elders")]
        _break_audit_log(settings)
        try:
            with pytest.raises(CommandRejected):
                register.store.members([iri + "/versie/1"], audit.audience(principal(), "ldes"))
        finally:
            _repair_audit_log(settings)


def test_a_group_of_entries_holds_one_descriptor_of_the_audit_log(tmp_path):
    """An import's batch is one group commit of thousands of entries: one open file, not one per entry
    (5,000 descriptors took the register past the 1,024 that select() and many ulimits allow)."""
    from app.auth import audit

    def open_logs() -> int:
        return sum(os.path.realpath(f"/proc/self/fd/{fd}") == str(tmp_path / "audit.log")
                   for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))

    with audit.one_fsync():
        for number in range(2000):
            audit.append(tmp_path, {"operatie": "registratie", "vcode": f"V{number:07d}"})
        assert open_logs() == 1
    assert open_logs() == 0
    assert len((tmp_path / "audit.log").read_text(encoding="utf-8").splitlines()) == 2000
