"""Readable Dutch for people: dates, times in Europe/Brussels, code labels, age ranges, history values.

The data surfaces keep ISO dates, codes and JSON; the HTML pages pass them through these filters so a
citizen reads "3 maart 2024", "Sport, Jeugdwerk" and "alle leeftijden" instead.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.domain import codelists
from app.domain.model import BOOLEAN, CODE, DATE, DATETIME, DAY, MODEL, OBJECT, OVO, VCODE, Field
from app.domain.versions import OVO_BASE

BRUSSELS = ZoneInfo("Europe/Brussels")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
OLDEST = 150  # the register's default maximumleeftijd: no upper limit
TYPE_EXPLANATIONS = {
    "FV": "Een vereniging zonder rechtspersoonlijkheid die zich vóór de overstap naar VZER inschreef; ze staat "
          "niet in de Kruispuntbank van Ondernemingen (KBO).",
    "VZER": "Een groep mensen die samen een doel nastreeft, zonder vzw te zijn. Ze schrijft zich rechtstreeks in "
            "dit register in, niet in de Kruispuntbank van Ondernemingen (KBO).",
    "VZW": "Een vereniging met rechtspersoonlijkheid; de gegevens komen uit de Kruispuntbank van Ondernemingen.",
    "IVZW": "Een internationale vereniging met rechtspersoonlijkheid; de gegevens komen uit de Kruispuntbank van "
            "Ondernemingen.",
    "PS": "Een stichting met rechtspersoonlijkheid; de gegevens komen uit de Kruispuntbank van Ondernemingen.",
    "SVON": "Een stichting met rechtspersoonlijkheid; de gegevens komen uit de Kruispuntbank van Ondernemingen.",
}
# history field label → code list whose labels replace the codes
FIELD_SCHEMES = {"status": "verenigingstatus", "type": "verenigingstypes", "hoofdactiviteiten": "hoofdactiviteiten",
                 "werkingsgebieden": "werkingsgebieden"}


def datum(value: str | date | None) -> str:
    """'2024-03-03' → '3 maart 2024'; anything that is not a date is returned as is."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def maand(value: str) -> str:
    """'2024-03' → 'maart 2024'."""
    try:
        year, month = str(value).split("-")[:2]
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return str(value)


def datum_tijd(value: str | None) -> str:
    """An ISO timestamp (UTC or with offset) as Dutch date and time in Belgian time."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(BRUSSELS)
    return f"{datum(local.date())} om {local:%H:%M}"


def label(scheme: str, code: str | None) -> str:
    found = codelists.get(scheme).find(code) if code else None
    return found.label if found else (code or "")


def doelgroep(value: dict | None) -> str:
    """{'minimumleeftijd': 0, 'maximumleeftijd': 150} → 'Alle leeftijden'."""
    value = value or {}
    low, high = int(value.get("minimumleeftijd") or 0), int(value.get("maximumleeftijd") or OLDEST)
    if low <= 0 and high >= OLDEST:
        return "Alle leeftijden"
    if low <= 0:
        return f"Tot en met {high} jaar"
    if high >= OLDEST:
        return f"Vanaf {low} jaar"
    return f"Van {low} tot en met {high} jaar"


def _adres(adres: dict) -> str:
    street = " ".join(str(adres[k]) for k in ("straatnaam", "huisnummer") if adres.get(k))
    if adres.get("busnummer"):
        street += f" bus {adres['busnummer']}"
    place = " ".join(str(adres[k]) for k in ("postcode", "gemeente") if adres.get(k))
    return ", ".join(part for part in (street, place) if part)


def _item(field: str, item: object) -> str:
    if not isinstance(item, dict):
        scheme = FIELD_SCHEMES.get(field)
        return label(scheme, str(item)) if scheme else str(item)
    if field == "locaties":
        name = item.get("naam") or item.get("locatietype") or "Locatie"
        where = _adres(item["adres"]) if isinstance(item.get("adres"), dict) else item.get("adresId", "")
        return f"{name}: {where}" + (" (primair)" if item.get("isPrimair") else "") if where else name
    if field == "contactgegevens":
        kind = label("contactgegeventypes", item.get("contactgegeventype"))
        return f"{kind}: {item.get('waarde', '')}" + (" (primair)" if item.get("isPrimair") else "")
    if field == "vertegenwoordigers":
        return " ".join(str(item.get(k) or "") for k in ("voornaam", "achternaam")).strip() or "Vertegenwoordiger"
    part = next((p for p in MODEL.parts if field in (p.kind, p.history_label)), None)
    return described(part.fields if part else (), item)


def described(fields: tuple[Field, ...], item: dict) -> str:
    """An item in words, by the description of its fields: 'IPDC-productnaam: Erkenning jeugdwerk,
    erkend vanaf: 1 januari 2024, geregistreerd door: Gemeente Gent'. A key the description does not
    know is left out (no API names or Python structures on a page for people)."""
    parts = []
    for found in fields:
        value = item.get(found.key)
        if value in (None, "", [], {}) or found.key == "id":
            continue
        parts.append(f"{found.label}: {_value(found, value)}")
    return ", ".join(parts)


def _value(found: Field, value: object) -> str:
    if isinstance(value, list):
        return "; ".join(_value(found, one) for one in value)
    if found.datatype == OBJECT and isinstance(value, dict):
        return f"({described(found.fields, value)})"
    if found.datatype in (DATE, DAY):
        return datum(str(value))
    if found.datatype == DATETIME:
        return datum_tijd(str(value))
    if found.datatype == BOOLEAN:
        return "ja" if value else "nee"
    if found.datatype == CODE and found.codelist:
        return label(found.codelist, str(value))
    if found.datatype == OVO:
        return organisation(str(value))
    if found.datatype == VCODE:
        return vereniging(str(value))
    return str(value)


def vereniging(vcode: str) -> str:
    """Another vereniging by its name and V-code: 'Volleybalclub De Smashers (V0001001)'."""
    from flask import current_app

    try:
        index = current_app.extensions["vr"].index
    except RuntimeError:
        return vcode
    name = index.name_of(vcode) if index is not None and vcode[1:].isdigit() else None
    return f"{name} ({vcode})" if name else vcode


def ondernemingsnummer(number: str | None) -> str:
    """'0202239951' → '0202.239.951', as the KBO writes it."""
    number = str(number or "")
    return f"{number[:4]}.{number[4:7]}.{number[7:]}" if len(number) == 10 and number.isdigit() else number


def organisation(value: str) -> str:
    """An OVO code or organisation IRI as the name the organisation was recorded with (the code if unknown)."""
    from flask import current_app

    from app.store import members

    iri = value if "/" in value else OVO_BASE + value
    try:
        return members.agent_label(current_app.extensions["vr"].store, iri) or value.rsplit("/", 1)[-1]
    except RuntimeError:  # outside a request (a test of the filter alone)
        return value.rsplit("/", 1)[-1]


def wijziging(field: str, text: str | None) -> list[str]:
    """One 'voor' or 'na' value of the history (text or JSON) as readable lines."""
    if text in (None, "", "—"):
        return ["—"]
    value: object = text
    if isinstance(text, str) and text[:1] in "[{":
        try:
            value = json.loads(text)
        except ValueError:
            value = text
    if field == "doelgroep" and isinstance(value, dict):
        return [doelgroep(value)]
    if isinstance(value, list):
        return [_item(field, item) for item in value] or ["—"]
    if isinstance(value, dict):
        return [_item(field, value)]
    if "datum" in field:
        return [datum(str(value))]
    scheme = FIELD_SCHEMES.get(field)
    return [label(scheme, str(value)) if scheme else str(value)]
