"""`vr wissen persoon INSZ --reden …` (GDPR art. 17) and `vr wissen retentie --reden …`: the same erasure as
the admin API, with an audit entry written before the transaction. `vr serve` also applies the retention
period by itself once a day (`daily_retention`)."""

from __future__ import annotations

import argparse
import json
import threading

from app.cli.daily import every_day


def cmd_erase(args: argparse.Namespace) -> int:
    from app.auth import audit
    from app.cli.main import _settings
    from app.register import Register
    from app.store import erasure
    from app.validation import formats

    settings = _settings(args)
    register = Register.open(settings)
    try:
        announce = audit.before_erasure(
            "wissing (verzoek art. 17)" if args.wat == "persoon" else f"wissing (retentie {settings.retention_days} "
            "dagen)", None, args.reden, data_dir=settings.data_dir, endpoint=f"vr wissen {args.wat}")
        if args.wat == "persoon":
            try:
                done = erasure.erase_person(register.store, formats.insz(args.insz or ""), announce)
            except ValueError as exc:
                print(f"Ongeldig INSZ: {exc}")
                return 2
            except erasure.StillRepresentative as exc:
                print(f"Deze persoon is nog vertegenwoordiger van {', '.join(exc.vcodes)}; verwijder eerst de "
                      "vertegenwoordiger met de beheer-API.")
                return 1
        else:
            done = erasure.expired(register.store, settings.retention_days, announce=announce)
        print(json.dumps({"gewisteTriples": done.quads, "verenigingen": done.vcodes,
                          "vertegenwoordigerKnopen": done.persons,
                          "bankrekeningKnopen": done.accounts}, ensure_ascii=False))
        return 0
    finally:
        register.close()


def add_parser(sub, common) -> None:
    erase = sub.add_parser("wissen", help="persoonsgegevens wissen uit de afgeschermde historiek (admin)")
    common(erase)
    erase.add_argument("wat", choices=["persoon", "retentie"],
                       help="persoon: één persoon op verzoek (INSZ); retentie: wat langer dan VR_RETENTION_DAYS weg is")
    erase.add_argument("insz", nargs="?", help="INSZ van de persoon (bij 'persoon')")
    erase.add_argument("--reden", required=True, help="reden of kenmerk van het verzoek (komt in het auditlog)")
    erase.set_defaults(func=cmd_erase)


def daily_retention(register, interval: float = 86400.0, first: float = 60.0) -> threading.Thread:
    """Apply the retention period now and then every `interval` seconds, in a daemon thread."""
    from app.auth import audit
    from app.publication.erasure_api import refresh_queries
    from app.store import erasure

    def retention() -> None:
        days = register.settings.retention_days
        announce = audit.before_erasure(f"wissing (retentie {days} dagen)", None, "dagelijkse retentie",
                                        data_dir=register.settings.data_dir, endpoint="vr serve (dagelijks)")
        if erasure.expired(register.store, days, announce=announce).quads:
            refresh_queries(register)

    return every_day("retentie", retention, interval, first)
