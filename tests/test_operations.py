"""What an operator's monitoring and logs get: the health endpoint and one log line per request."""

from __future__ import annotations

import logging

from tests.conftest import valid_body


def test_health_says_the_store_answers_with_its_sequence(client, post):
    assert post(valid_body()).status_code == 201
    health = client.get("/gezondheid")
    assert health.status_code == 200 and health.headers["Cache-Control"] == "no-store"
    assert health.get_json() == {"status": "ok", "opslag": "bereikbaar", "sequentie": 1}
    assert client.get("/health").get_json()["sequentie"] == 1


def test_one_log_line_per_request_without_the_query_string(client, caplog):
    with caplog.at_level(logging.INFO, logger="vr.toegang"):
        client.get("/api/zoeken", query_string={"q": "Jan Peeters"})
        client.get("/bestaat/niet")
    lines = [record.getMessage() for record in caplog.records if record.name == "vr.toegang"]
    assert len(lines) == 2 and " GET /api/zoeken 200 " in lines[0] and " GET /bestaat/niet 404 " in lines[1]
    assert not any("Peeters" in line for line in lines)  # a search text can be a name
    privacy = " ".join(client.get("/privacy").get_data(as_text=True).split())  # the log is told to its visitors
    assert "het IP-adres van de bezoeker" in privacy and "30 dagen" in privacy
