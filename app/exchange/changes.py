"""What an import row changes on an existing vereniging, in words a civil servant reads: field, before, after.

Round 1 shows it for every row that would update or adopt (koppel) a vereniging, so the bestuur sees
what its list would overwrite before anything is written. Lists are compared as sets (their order,
and the ids the register gives their items, say nothing); an INSZ is never shown.
"""

from __future__ import annotations

import json

from app.domain import codelists
from app.domain.model import MODEL

LABELS = MODEL.labels()
_CODES = {"hoofdactiviteiten": "hoofdactiviteiten", "werkingsgebieden": "werkingsgebieden",
          "verenigingstype": "verenigingstypes"}  # fields holding codes: shown with their label, as in the portal
_UNSHOWN = {"id", "insz", "adresId", "isPrimair"}


def changes(before: dict, after: dict) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each field whose content differs."""
    found = []
    for key, label in LABELS.items():
        old, new = before.get(key), after.get(key)
        if _content(old) != _content(new):
            found.append((label, words(_labelled(key, old)), words(_labelled(key, new))))
    return found


def _content(value: object) -> object:
    if isinstance(value, list):
        return sorted(json.dumps(_content(item), sort_keys=True, ensure_ascii=False) for item in value)
    if isinstance(value, dict):
        return {k: _content(v) for k, v in value.items() if k != "id"}
    return None if value in ("", [], {}) else value


def _labelled(key: str, value: object) -> object:
    if key not in _CODES or value in (None, []):
        return value
    codes = codelists.get(_CODES[key])

    def label(code: object) -> object:
        concept = codes.find(code) if isinstance(code, str) else None
        return f"{concept.label} ({code})" if concept else code

    return [label(code) for code in value] if isinstance(value, list) else label(value)


def words(value: object) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return "; ".join(words(item) for item in value)
    if isinstance(value, dict):
        return _item(value)
    return str(value)


def _item(item: dict) -> str:
    if "adres" in item or "straatnaam" in item:  # a locatie, or an address
        adres = item.get("adres", item) or {}
        street = " ".join(str(adres[k]) for k in ("straatnaam", "huisnummer", "busnummer") if adres.get(k))
        place = " ".join(str(adres[k]) for k in ("postcode", "gemeente") if adres.get(k))
        text = ", ".join(part for part in (street, place) if part)
        kind = item.get("locatietype")
        return f"{kind}: {text}" if kind else text
    if "contactgegeventype" in item:
        return f"{item['contactgegeventype']}: {item.get('waarde', '')}"
    if "achternaam" in item:  # a vertegenwoordiger: by name only
        return " ".join(str(item[k]) for k in ("voornaam", "achternaam") if item.get(k))
    if "minimumleeftijd" in item:
        return f"{item.get('minimumleeftijd')}–{item.get('maximumleeftijd')} jaar"
    return ", ".join(words(v) for k, v in item.items() if k not in _UNSHOWN and v not in (None, "", [], {}))
