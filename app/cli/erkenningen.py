"""`vr erkenningen`: bring erkenning statuses up to date now; `vr serve` does it once a day by itself.

An erkenning becomes Actief on its startdatum and Verlopen after its einddatum (the official
register's scheduled ErkenningWerdGeactiveerd / ErkenningWerdVerlopen); its stored status and the
vereniging's isErkend follow through a RefreshErkenningen command per vereniging, so the change is
a version in the history and the change stream.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading

from app.cli.daily import every_day

log = logging.getLogger(__name__)


def cmd_refresh(args: argparse.Namespace) -> int:
    from app.cli.main import _settings
    from app.domain import erkenningen
    from app.register import Register

    register = Register.open(_settings(args))
    try:
        print(json.dumps({"bijgewerkt": erkenningen.refresh_all(register.handler)}, ensure_ascii=False))
        return 0
    finally:
        register.close()


def add_parser(sub, common) -> None:
    refresh = sub.add_parser("erkenningen", help="werk de status van erkenningen bij (actief, verlopen)")
    common(refresh)
    refresh.set_defaults(func=cmd_refresh)


def daily_refresh(register, interval: float = 86400.0, first: float = 30.0) -> threading.Thread:
    """Refresh erkenning statuses now and then every `interval` seconds, in a daemon thread."""
    from app.domain import erkenningen

    def refresh() -> None:
        changed = erkenningen.refresh_all(register.handler)
        if changed:
            log.info("erkenningsstatus bijgewerkt voor %s", ", ".join(changed))

    return every_day("erkenningen", refresh, interval, first)
