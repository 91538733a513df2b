"""`vr serve` in one process (waitress): it stops on SIGTERM as gunicorn's workers do, gracefully, and
answers its own refusals in Dutch problem+json as gunicorn_errors makes gunicorn do.

A service manager restarting the register sends SIGTERM. Waitress itself would end at once and cut every
request in flight: an upload half received, an answer half sent. Here the listening sockets close first
(a load balancer or a client's retry sees the refusal at once), idle keep-alive connections close, and the
requests in flight are answered; after GRACE_SECONDS, or at a second SIGTERM or Ctrl-C, the process ends
anyway. What a request writes is one store transaction, so an ended request never leaves half a change.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import time

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from app.cli.server_errors import HEADERS, problem_body

GRACE_SECONDS = 20  # as gunicorn's graceful_timeout in app/cli/workers.py


class _DutchErrorTask(ErrorTask):
    """Waitress's own refusals (an unreadable request, a body over its limit) as Dutch problem+json."""

    def execute(self) -> None:
        error = self.request.error
        body = problem_body(error.code, error.reason)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(HEADERS)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _DutchErrorTask


def serve(app, **options) -> None:
    """Serve `app` with waitress until SIGTERM (gracefully) or Ctrl-C (at once)."""
    server = create_server(app, **options)
    sockets = getattr(server, "map", None) or server._map  # several listening addresses, or one
    listeners = [d for d in sockets.values() if isinstance(d, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = _Channel
    state = {"stopping": False, "open": 1}

    def drain() -> None:
        """In waitress's loop thread: close connections without a request in flight; count the others."""
        open_channels = [c for c in list(sockets.values()) if isinstance(c, HTTPChannel)]
        for channel in open_channels:
            if not channel.requests and channel.request is None and not channel.total_outbufs_len:
                channel.will_close = True
        state["open"] = sum(1 for c in open_channels if not c.will_close)

    def watch() -> None:
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            listeners[0].trigger.pull_trigger(drain)
            time.sleep(0.05)
            if not state["open"]:
                break
        _thread.interrupt_main()  # waitress's loop ends on KeyboardInterrupt

    def stop(*_) -> None:
        if state["stopping"]:
            raise SystemExit(0)
        state["stopping"] = True
        print("vr: stoppen: nieuwe verbindingen worden geweigerd, lopende aanvragen worden afgewerkt (hoogstens "
              f"{GRACE_SECONDS} s).", file=sys.stderr, flush=True)
        for listener in listeners:
            listener.accepting = False
            wasyncore.dispatcher.close(listener)  # the socket only: its trigger keeps working
        threading.Thread(target=watch, name="stoppen", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.run()
