"""ETag and body always describe the same version, while a writer changes the record under readers."""

from __future__ import annotations

import re
import threading

import requests

from tests.conftest import Keys, valid_body

RUNS, PATCHES = 20, 15
# Three readers, one per format; the korteNaam written by each PATCH identifies the version in a body.
FORMATS = {"text/turtle": r'"(Naam \d+-\d+)"@nl', "application/ld+json": r'"(Naam \d+-\d+)"',
           "text/html": r"(Naam \d+-\d+)"}


def one_run(server: str, vcode: str, key: str, run: int) -> int:
    """A writer PATCHing and three readers GETting; returns how many answers were checked."""
    url = f"{server}/doc/vereniging/{vcode}"
    headers = {**Keys.auth(key), "Content-Type": "application/merge-patch+json"}
    version_of: dict[str, str] = {}  # korteNaam → ETag of the write that set it
    seen: list[tuple[str, str, str]] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(PATCHES):
                name = f"Naam {run}-{i}"
                answer = requests.patch(f"{server}/verenigingen/{vcode}", json={"korteNaam": name}, headers=headers)
                assert answer.status_code == 200, answer.text
                version_of[name] = answer.headers["ETag"]
        finally:
            done.set()

    def read(media: str) -> None:  # the read's tag W/"n-ttl" is compared by its version W/"n"
        with requests.Session() as session:
            while not done.is_set():
                answer = session.get(url, headers={"Accept": media})
                seen.append((media, re.sub(r"-[a-z]+\"$", '"', answer.headers["ETag"]), answer.text))

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(m,)) for m in FORMATS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    checked = 0
    for media, etag, text in seen:
        found = re.search(FORMATS[media], text)
        if found and found.group(1) in version_of:  # bodies from before this run's first write are skipped
            assert version_of[found.group(1)] == etag, (run, media, etag, found.group(1))
            checked += 1
    return checked


def test_etag_matches_body_under_concurrent_writes(live_server, keys, post):
    vcode = post(valid_body()).headers["Location"].rsplit("/", 1)[-1]
    for run in range(RUNS):
        assert one_run(live_server, vcode, keys.initiator, run) > 0
