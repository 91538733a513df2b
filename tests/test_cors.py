"""CORS on the read surfaces, for browser applications on other sites: answers, errors and preflights."""

from __future__ import annotations

from tests.conftest import Keys, valid_body

ORIGIN = {"Origin": "https://viewer.example"}


def test_errors_and_preflights_on_read_surfaces_are_open_to_other_sites(client, keys):
    vcode = client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).get_json()["vCode"]
    for path in (f"/doc/vereniging/{vcode}", "/ldes/verenigingen/tijd/1", "/ldes/beheer/verenigingen/tijd/1"):
        # a conditional GET (and a key for the restricted stream) makes the browser ask first
        preflight = client.options(path, headers={**ORIGIN, "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "if-none-match, authorization"})
        assert preflight.status_code in (200, 204), path
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
        assert "if-none-match" in allowed and "authorization" in allowed, path
    answer = client.get("/ldes/verenigingen/tijd/1", headers={**ORIGIN, "Accept": "text/turtle"})
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]  # a page can read the validator
    # a 404, a 406 and a 401 are readable too: a page can tell 'not there' from a network error
    for path, headers in (("/doc/vereniging/V9999999", {}), (f"/doc/vereniging/{vcode}", {"Accept": "image/png"}),
                          ("/ldes/beheer/verenigingen/tijd/1", {})):
        answer = client.get(path, headers={**ORIGIN, **headers})
        assert answer.status_code >= 400 and answer.headers.get("Access-Control-Allow-Origin") == "*", path
    # writes stay closed to pages on other sites
    write = client.options("/verenigingen", headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in write.headers
