"""The SPARQL rate limit's shared windows: one budget per client however many processes count it."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from app.publication.rate_limit import RateLimit


def _hits(path: str, client: str, tries: int) -> int:
    limit = RateLimit("30/minute", path)
    return sum(limit.retry_after(client) is None for _ in range(tries))


def test_concurrent_processes_admit_exactly_the_budget(tmp_path):
    path = str(tmp_path / "limiet.sqlite3")
    with ProcessPoolExecutor(4) as pool:
        admitted = sum(pool.map(_hits, [path] * 4, ["ip:10.0.0.1"] * 4, [25] * 4))
    assert admitted == 30
    # another client has its own budget; the first one waits for its oldest hit to leave the window
    limit = RateLimit("30/minute", tmp_path / "limiet.sqlite3")
    assert limit.retry_after("ip:10.0.0.2") is None
    assert 0 < limit.retry_after("ip:10.0.0.1") <= 60


def test_an_unusable_file_lets_queries_through(tmp_path):
    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand waar een map moet staan")
    limit = RateLimit("1/minute", blocked / "limiet.sqlite3")
    assert limit.retry_after("ip:10.0.0.1") is None and limit.retry_after("ip:10.0.0.1") is None
    blocked.unlink()  # the space is back: counting resumes without a restart
    assert limit.retry_after("ip:10.0.0.1") is None and limit.retry_after("ip:10.0.0.1") is not None
