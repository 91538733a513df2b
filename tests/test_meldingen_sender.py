"""The child process that POSTs meldingen: a killed child is replaced without losing a melding, and the
child does not outlive the register, not even its kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.meldingen.sender import Sender
from tests.test_import import alive
from tests.test_meldingen_client import Inbox
from tests.test_meldingen_events import melding

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def slow_inbox(monkeypatch):
    """Takes 0.2 s per melding (so meldingen are in flight) and verifies every signature."""
    monkeypatch.setenv("VR_MELDINGEN_LOKAAL", "1")
    server = Inbox()
    server.pause, server.secret = 0.2, SECRET
    yield server
    server.close()


def test_a_killed_sending_process_is_replaced_and_every_melding_still_arrives(slow_inbox):
    inbox = slow_inbox
    answers: dict[str, str | None] = {}
    done = threading.Event()

    def answered(key: object, error: str | None) -> None:
        answers[key] = error
        if len(answers) == 10:
            done.set()

    sender = Sender("http://register.test", 5.0, 1, answered)
    try:
        for sequence in range(1, 11):
            sender.send(inbox.url, "webhook", SECRET, melding(sequence), f"{sequence}-0")
        deadline = time.monotonic() + 10
        while not inbox.ids and time.monotonic() < deadline:
            time.sleep(0.01)
        first = sender.pid
        os.kill(first, signal.SIGKILL)  # with meldingen in flight and waiting in the child
        assert done.wait(30), answers
        assert answers == {f"{s}-0": None for s in range(1, 11)}
        assert set(inbox.ids) == set(answers)  # every melding arrived; one in flight may have arrived twice
        assert sender.pid not in (None, first)
    finally:
        sender.close()


def test_the_sending_process_ends_with_the_register_even_after_kill_9(slow_inbox):
    inbox = slow_inbox
    script = f"""
import sys, threading, time
from app.meldingen.sender import Sender
from tests.test_meldingen_events import melding
from tests.test_meldingen_sender import SECRET
got = threading.Event()
sender = Sender("http://register.test", 5.0, 1, lambda key, error: got.set())
sender.send({inbox.url!r}, "webhook", SECRET, melding(1), "1-0")
got.wait(30)
print(sender.pid, flush=True)
time.sleep(60)
"""
    register = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        child = int(register.stdout.readline())
        assert inbox.ids == ["1-0"]
        os.kill(register.pid, signal.SIGKILL)
        register.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        register.kill()
        register.wait()

