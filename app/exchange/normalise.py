"""Forgiving reading of spreadsheet cells: the forms people type, never silently.

A civil servant's list has dates as `01/09/1995` or `1 maart 2001` or Excel serial numbers, activity
labels instead of codes, web sites without `https://`, phone numbers as `09/233 45 67`. Each reader
here turns such a cell into the register's form and returns a Note for every change it made (with
the original value), or an error Note with a fix when it cannot read the cell at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from rapidfuzz import fuzz, process

from app.domain import clock, codelists
from app.domain.accents import without_accents

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "febr": 2, "februari": 2, "mrt": 3, "maa": 3, "maart": 3, "apr": 4,
    "april": 4, "mei": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "augustus": 8, "sep": 9,
    "sept": 9, "september": 9, "okt": 10, "oct": 10, "oktober": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}
MONTH_NAMES = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
               "oktober", "november", "december"]
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (including its 1900 leap-day bug)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")
_WORDS = re.compile(r"^(\d{1,2})\s*(?:e|ste|de)?\s+([a-z]+)\.?\s+(\d{4})$")


@dataclass(frozen=True)
class Note:
    """What happened to one cell: `waarschuwing` (read, but changed or doubtful) or `fout` (not read)."""

    level: str
    message: str
    fix: str = ""


def warning(message: str, fix: str = "") -> Note:
    return Note("waarschuwing", message, fix)


def error(message: str, fix: str) -> Note:
    return Note("fout", message, fix)


def fold(text: str) -> str:
    """Lower case, no accents, '&' as 'en', only letters and digits separated by single spaces."""
    return _NOT_ALNUM.sub(" ", without_accents(text.casefold().replace("&", " en "))).strip()


def spoken(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


# -- dates ---------------------------------------------------------------------------------------
def date_value(text: str, allow_year: bool, today: date | None = None) -> tuple[str | None, Note | None]:
    """A date in one of the Belgian forms → ISO `yyyy-mm-dd`."""
    raw = text.strip()
    today = today or clock.today()
    if re.fullmatch(r"\d{4}", raw):
        if not allow_year:
            return None, error(f"'{raw}' is enkel een jaartal; hier is een volledige datum nodig.",
                               "Vul de volledige datum in, bv. 01/09/1995.")
        return f"{raw}-01-01", warning(f"Alleen een jaartal '{raw}': gelezen als 1 januari {raw}.",
                                       "Vul de volledige datum in als u die kent.")
    if re.fullmatch(r"\d{5}(\.0+)?", raw):
        serial = int(float(raw))
        day = EXCEL_EPOCH + timedelta(days=serial)
        return day.isoformat(), warning(f"Excel-datumgetal '{raw}' gelezen als {spoken(day)}.")
    if (month_year := _month_year(raw)) is not None:
        return _first_of_month(raw, *month_year, allow_year, today)
    if short := re.fullmatch(r"(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{2})", raw):  # '1/9/95': a year in 2 digits
        year = 2000 + int(short[4]) if 2000 + int(short[4]) <= today.year else 1900 + int(short[4])
        value, note = date_value(f"{short[1]}/{short[3]}/{year}", allow_year, today)
        if value is None:
            return value, note
        return value, warning(f"Datum '{raw}' gelezen als {spoken(date.fromisoformat(value))} (het jaar had 2 "
                              "cijfers).", "Schrijf het jaar met 4 cijfers als het een andere eeuw is.")
    parts = _split_date(fold(raw) if _WORDS.match(fold(raw)) else raw)
    if parts is None:
        return None, error(f"'{raw}' is geen datum die we kunnen lezen.",
                           "Schrijf de datum als dag/maand/jaar, bv. 01/09/1995.")
    year, month, day_number, iso = parts
    try:
        day = date(year, month, day_number)
    except ValueError:
        if 1 <= month <= 12:
            return None, error(f"De datum '{raw}' bestaat niet: {MONTH_NAMES[month - 1]} {year} heeft geen "
                               f"dag {day_number}.", "Controleer dag en maand.")
        return None, error(f"De datum '{raw}' bestaat niet: er is geen maand {month}.",
                           "Schrijf de datum als dag/maand/jaar, bv. 01/09/1995.")
    if day > today:
        return None, error(f"De datum '{raw}' ({spoken(day)}) ligt in de toekomst.",
                           "Een startdatum kan niet na vandaag liggen: controleer het jaar.")
    return day.isoformat(), None if iso else warning(f"Datum '{raw}' gelezen als {spoken(day)}.")


def _month_year(raw: str) -> tuple[int, int] | None:
    """(year, month) of 'maart 2015', '03/2015', '3-2015' or '2015-03'; None for anything else."""
    folded = fold(raw)
    if (match := re.fullmatch(r"([a-z]+)\.?\s+(\d{4})", folded)) and match[1] in MONTHS:
        return int(match[2]), MONTHS[match[1]]
    if match := re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{4})", raw):
        year, month = int(match[2]), int(match[1])
    elif match := re.fullmatch(r"(\d{4})-(\d{1,2})", raw):
        year, month = int(match[1]), int(match[2])
    else:
        return None
    return (year, month) if 1 <= month <= 12 else None


def _first_of_month(raw: str, year: int, month: int, allow_year: bool, today: date) -> tuple[str | None, Note | None]:
    """A month and a year say less than a date: where the field allows a bare year, the first of the month."""
    if not allow_year:
        return None, error(f"'{raw}' is enkel een maand en een jaar; hier is een volledige datum nodig.",
                           "Vul de volledige datum in, bv. 01/09/1995.")
    day = date(year, month, 1)
    if day > today:
        return None, error(f"De datum '{raw}' ({spoken(day)}) ligt in de toekomst.",
                           "Een startdatum kan niet na vandaag liggen: controleer het jaar.")
    return day.isoformat(), warning(f"Alleen maand en jaar '{raw}': gelezen als {spoken(day)}.",
                                    "Vul de volledige datum in als u die kent.")


def _split_date(raw: str) -> tuple[int, int, int, bool] | None:
    if match := _ISO.match(raw):
        return int(match[1]), int(match[2]), int(match[3]), raw == f"{match[1]}-{match[2]}-{match[3]}"
    if match := _NUMERIC.match(raw):
        return int(match[3]), int(match[2]), int(match[1]), False
    if (match := _WORDS.match(raw)) and match[2] in MONTHS:
        return int(match[3]), MONTHS[match[2]], int(match[1]), False
    return None


# -- code lists ----------------------------------------------------------------------------------
def code_value(text: str, codelist: str, aliases: dict[str, str] | None = None) -> tuple[str | None, Note | None]:
    """A code or a label of a code list (case and accents ignored) → the code."""
    concept, note = _concept(text.strip(), codelist, aliases or {})
    return (concept, note) if concept else (None, note)


def codes_value(text: str, codelist: str, aliases: dict[str, str] | None = None) -> tuple[list[str], list[Note]]:
    """A list of codes or labels separated by `,` `;` `|` `/` or new lines; labels may contain commas."""
    parts = [part.strip() for part in re.split(r"[;,|/\n]", text) if part.strip()]
    codes: list[str] = []
    notes: list[Note] = []
    index = 0
    while index < len(parts):
        # "Kunsten, Erfgoed & Cultuur" is one label: try the longest run of parts first.
        for end in range(len(parts), index, -1):
            joined = ", ".join(parts[index:end])
            concept, note = _concept(joined, codelist, aliases or {}, quiet=end - index > 1)
            if concept or end == index + 1:
                break
        if concept and concept not in codes:
            codes.append(concept)
        elif concept:
            notes.append(warning(f"'{joined}' is ook {concept}, dat al in de lijst staat; één keer overgenomen."))
        if note:
            notes.append(note)
        index = end
    return codes, notes


def _concept(raw: str, codelist: str, aliases: dict[str, str], quiet: bool = False) -> tuple[str | None, Note | None]:
    items = codelists.get(codelist)
    if (found := items.find(raw)) is not None:
        return found.code, None if found.code == raw else warning(f"Code '{raw}' gelezen als '{found.code}'.")
    key = fold(raw)
    labels = _labels(codelist)
    concept = labels.get(key) or items.find(aliases.get(key, "")) or _by_word_prefixes(key, labels)
    if concept is not None:
        return concept.code, warning(f"'{raw}' gelezen als {concept.code} ({concept.label}).")
    if quiet:
        return None, None
    best = process.extract(key, list(labels), scorer=fuzz.WRatio, limit=3, score_cutoff=60)
    hint = ", ".join(f"{labels[label].code} ({labels[label].label})" for label, _, _ in best)
    return None, error(f"'{raw}' is geen gekende waarde voor {WHAT[codelist]}.",
                       f"Kies een code uit het werkblad 'Codelijsten'{'; bedoelt u ' + hint if hint else ''}.")


@cache
def _labels(codelist: str) -> dict[str, codelists.Concept]:
    return {fold(concept.label): concept for concept in codelists.get(codelist).concepts}


def _by_word_prefixes(key: str, labels: dict) -> codelists.Concept | None:
    """'kunst en cultuur' → 'kunsten erfgoed en cultuur': every word starts a word of exactly one label."""
    words = [word for word in key.split() if word != "en"]
    if not words:
        return None
    hits = [concept for label, concept in labels.items()
            if all(any(part.startswith(word) for part in label.split()) for word in words)]
    return hits[0] if len(hits) == 1 else None


WHAT = {"hoofdactiviteiten": "hoofdactiviteit", "werkingsgebieden": "werkingsgebied",
        "verenigingstypes": "type vereniging", "locatietypes": "locatietype"}


# -- contact data and addresses ---------------------------------------------------------------------
def url_value(text: str) -> tuple[str, Note | None]:
    raw = text.strip()
    if re.match(r"^https?://", raw, re.I):
        return raw, None
    if re.match(r"^[\w.-]+\.[a-z]{2,}(/.*)?$", raw, re.I):  # a space in the path is encoded (formats.web_address)
        return f"https://{raw}", warning(f"Website '{raw}' aangevuld tot 'https://{raw}'.")
    return raw, None


def phone_value(text: str) -> tuple[str, Note | None]:
    from app.validation import formats

    raw = text.strip()
    remark = re.search(r"\s*\(([^)]*)\)\s*$", raw)  # '09 233 45 67 (na 18u)'
    if remark and remark.start() > 0:
        value, note = phone_value(raw[:remark.start()])
        if note is not None and note.level == "fout":
            return raw, note
        return value, warning(f"Telefoonnummer '{raw}' bewaard als '{value}', zonder '({remark[1]})'.")
    try:
        value = formats.telephone(raw)
    except ValueError as exc:
        reason = str(exc).rstrip(".").lower()
        if "geen geldig nummer" in reason:  # it reads as a number, but no such number exists in Belgium
            return raw, error(f"Telefoonnummer '{raw}' bestaat niet in het Belgische nummerplan.",
                              "Controleer de cijfers (bv. 09 233 45 67 of 0470 12 34 56); een nummer in het "
                              "buitenland begint met + en de landcode.")
        return raw, error(f"Telefoonnummer '{raw}': {reason}.",
                          "Schrijf het nummer met zonenummer, bv. 09 233 45 67 of 0470 12 34 56.")
    return value, None if value == raw else warning(f"Telefoonnummer '{raw}' bewaard als '{value}'.")


def email_value(text: str) -> tuple[str, Note | None]:
    raw = text.strip()
    value = re.sub(r"^mailto:", "", raw, flags=re.I).strip().strip("<>").replace(" ", "")
    return value, None if value == raw else warning(f"E-mailadres '{raw}' gelezen als '{value}'.")


def postcode_value(text: str) -> tuple[str, Note | None]:
    raw = text.strip()
    value = re.sub(r"^be?\s*-?\s*(?=\d)", "", raw, flags=re.I).strip()  # B-9000, BE 9000, B9000
    if re.fullmatch(r"\d{4}\.0+", value):
        value = value.split(".")[0]
    return value, None if value == raw else warning(f"Postcode '{raw}' gelezen als '{value}'.")


_NO_NUMBER = {"z n", "zn", "zonder nummer", "nvt", "n v t", "geen", "geen nummer", "onbekend", "x", "s n", "sn"}


def housenumber_value(text: str) -> tuple[str, str | None, Note | None]:
    """Huisnummer, plus a bus number when someone wrote `12 bus 3`; an error when it is no number."""
    raw = text.strip()
    if match := re.fullmatch(r"(\d+\s*[a-zA-Z]?)\s*(?:bus|bte|b\.?|/)\s*([\w-]+)", raw, re.I):
        number, bus = match[1].replace(" ", ""), match[2]
        return number, bus, warning(f"Huisnummer '{raw}' gesplitst in huisnummer {number} en bus {bus}.")
    if re.fullmatch(r"\d+\s*[a-zA-Z]?(\s*[-+]\s*\d+\s*[a-zA-Z]?)?", raw):
        return raw, None, None
    if fold(raw) in _NO_NUMBER:
        return raw, None, error(f"'{raw}': het register vraagt bij elk adres een huisnummer (zoals het "
                                "Verenigingsregister van Vlaanderen).",
                                "Vul het huisnummer van het gebouw in, of laat kolom 'Straat', 'Huisnummer', "
                                "'Postcode' en 'Gemeente' van de rij leeg: dan wordt de vereniging zonder adres "
                                "geregistreerd.")
    return raw, None, error(f"'{raw}' is geen huisnummer.",
                            "Een huisnummer begint met een cijfer (bv. 12 of 12A); zet een busnummer in "
                            "kolom 'Bus' en de straat in kolom 'Straat'.")
