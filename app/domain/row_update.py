"""A spreadsheet row applied to a vereniging that already exists (named_commands.ImportRow).

Only what the row fills in is applied, and only what the bestuur may change: fields the KBO owns
(naam, korte naam, startdatum of a KBO vereniging) and items that came from the KBO (bron KBO, e.g.
the maatschappelijke zetel) are never touched, so a re-import after `vr kbo-sync` keeps them.
Lists are compared as sets and items by their content, so a row that says what the register
already says gives an identical state: the write path then writes no version at all. New items
carry no id: the write path numbers them.
"""

from __future__ import annotations

import copy

from app.domain import parse
from app.validation import formats


def apply_row(current: dict, fresh: dict, body: dict) -> dict:
    """The current state with the row (`fresh` = the parsed row, `body` = what the row filled in)."""
    new = copy.deepcopy(current)
    kbo = bool(current.get("kboNummer"))
    for key in parse.BASIS_FIELDS:
        if key not in body or (kbo and key in parse.KBO_OWNED):
            continue
        if key in ("hoofdactiviteiten", "werkingsgebieden"):
            if set(fresh[key]) != set(current[key]):
                new[key] = fresh[key]
        elif key == "doelgroep":
            new[key] = {**current[key], **body[key]}
        else:
            new[key] = fresh[key]
    for sleutel in fresh.get("sleutels", []):
        if sleutel not in new["sleutels"]:
            new["sleutels"] = sorted([*new["sleutels"], sleutel], key=lambda k: (k["bron"], k["waarde"]))
    for locatie in fresh["locaties"] if "locaties" in body else []:
        _locatie(new["locaties"], locatie)
    for item in fresh["contactgegevens"]:
        _contact(new["contactgegevens"], item)
    if not kbo:
        for person in fresh["vertegenwoordigers"]:
            _person(new["vertegenwoordigers"], person)
    return new


def _locatie(items: list[dict], fresh: dict) -> None:
    if any(_same_place(item, fresh) for item in items):
        return
    own = [item for item in items if item.get("bron") != "KBO" and item["locatietype"] == fresh["locatietype"]]
    if own:
        own[0].update({k: v for k, v in fresh.items() if k not in ("isPrimair", "naam") or v})
        return
    items.append({**fresh, "isPrimair": not any(item["isPrimair"] for item in items)})


def _same_place(item: dict, fresh: dict) -> bool:
    if item.get("adres") is None or fresh.get("adres") is None:
        return False
    return all(_fold(item["adres"].get(part)) == _fold(fresh["adres"].get(part))
               for part in ("straatnaam", "huisnummer", "busnummer", "postcode"))


def _contact(items: list[dict], fresh: dict) -> None:
    kind = fresh["contactgegeventype"]
    if any(item["contactgegeventype"] == kind and _value(kind, item["waarde"]) == _value(kind, fresh["waarde"])
           for item in items):
        return
    own = [item for item in items if item["contactgegeventype"] == kind and item.get("bron") != "KBO"]
    primary = next((item for item in own if item["isPrimair"]), None)
    if primary is not None:
        primary["waarde"] = fresh["waarde"]
        return
    items.append({**fresh, "isPrimair": not any(i["isPrimair"] for i in items if i["contactgegeventype"] == kind)})


def _value(kind: str, value: str) -> str:
    if kind == "Telefoon":
        try:
            return formats.phone_key(value)
        except Exception:  # phonenumbers raises its own exception type for unparsable input
            return value
    return value.casefold()


def _person(items: list[dict], fresh: dict) -> None:
    same = next((item for item in items if item["insz"] == fresh["insz"]), None)
    if same is None:
        items.append({**fresh, "isPrimair": not any(item["isPrimair"] for item in items)})
        return
    for key in ("email", "telefoon", "roepnaam", "rol"):
        if fresh.get(key):
            same[key] = fresh[key]


def _fold(value: str | None) -> str:
    return "".join(ch for ch in (value or "").casefold() if ch.isalnum())
