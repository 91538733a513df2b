"""`vr serve --workers N`: N gunicorn worker processes sharing one remote store.

Every worker opens its own Register after the fork (its own HTTP sessions to the store, its own
compiled SHACL shapes, its own handle on the shared search index), so nothing but the store and the
files in the data directory is shared. The Flask app itself keeps no state that another worker
would need: writes are serialised by the store's write lease, the search index is a shared
SQLite file in WAL mode.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from app.config import Settings


class RegisterServer(BaseApplication):
    def __init__(self, settings: Settings, bind: str, workers: int, threads: int) -> None:
        self.settings = settings
        self.options = {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                        "timeout": 120, "graceful_timeout": 20, "accesslog": None, "preload_app": False,
                        # the longest request line gunicorn allows (a SPARQL GET of ~8 KB; longer queries go by
                        # POST), and headers that hold a large OAuth2 token (default 8 KB each)
                        "limit_request_line": 8190, "limit_request_field_size": 32768,
                        # an idle connection stays open 30 s, as with waitress (channel_timeout): gunicorn's 2 s
                        # closed it while an HTTP client (Node's keeps idle sockets ~4 s: the npm ldes-client) sent
                        # its next request on it, which then failed with "other side closed"
                        "keepalive": 30,
                        # each register its own control socket (the default is one per user, taken over by
                        # whichever `vr serve --workers` starts last)
                        "control_socket": str(settings.data_dir / "gunicorn.ctl")}
        super().__init__()

    def load_config(self) -> None:
        from app.cli import gunicorn_errors

        for key, value in self.options.items():
            self.cfg.set(key, value)
        gunicorn_errors.install()  # before the fork: every worker answers its refusals in Dutch problem+json

    def load(self):
        from app.cli import erasure as erasure_cli
        from app.cli import erkenningen as erkenningen_cli
        from app.factory import create_app
        from app.meldingen.delivery import start_delivery
        from app.register import Register

        register = Register.open(self.settings)
        register.handler.validator.warm()
        app = create_app(register=register)
        start_delivery(register)  # meldingen: every worker tries, the one holding the lock file delivers
        # every worker applies the retention period daily; the erasure runs under the write lease and
        # finds nothing left to erase after the first one
        erasure_cli.daily_retention(register)
        erkenningen_cli.daily_refresh(register)
        return app


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    RegisterServer(settings, f"{host}:{port}", workers, threads).run()
