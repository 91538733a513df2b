"""Possible duplicates of an import row: in the register and among the other rows of the file.

Same rules as the register's duplicate detection (domain/duplicates.py: names folded, Dutch stop
words and place names dropped, rapidfuzz, same threshold), but over a whole gemeente with all its
deelgemeenten: a row in 9051 is compared with verenigingen in 9000 Gent. Every row is compared,
also rows with errors, so a duplicate shows up in round 1 and not only after the errors are fixed.
The register's verenigingen are fetched once per gemeente per import (one query), and the names
are compared with rapidfuzz's batch functions, so the cost per row stays small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz import fuzz, process

from app.domain import duplicates
from app.domain.places import gemeente_by_postcode
from app.exchange import quality
from app.exchange.normalise import fold
from app.store import RegisterStore

ABBREVIATIONS = [(re.compile(r"\bv\s*/\s*h\b", re.I), "van het"), (re.compile(r"\bv\s*/\s*d\b", re.I), "van de"),
                 (re.compile(r"\bo\.?\s*l\.?\s*v\.?\b", re.I), "onze lieve vrouw")]


@dataclass(frozen=True)
class Candidate:
    ref: str  # V-code, or "rij 12" for another row of the file
    naam: str
    adres: str
    score: float
    vcode: str = ""


@dataclass
class Probe:
    """What a row says about where it is and what it is called, read even when the row has errors."""

    naam: str
    postcode: str = ""
    gemeente: str = ""
    straat: str = ""
    huisnummer: str = ""

    def address(self) -> str:
        """Street, number and postcode folded ('' when one is missing): at one address, names that share their
        words are alike even when one adds some ('Oxfam Wereldwinkel Centrum' at 'Wereldwinkel')."""
        return address_key(self.straat, self.huisnummer, self.postcode)

    def area(self) -> str | None:
        """The gemeente the row is in (its main gemeente when the row names a deelgemeente)."""
        if self.postcode in gemeente_by_postcode():
            return fold(gemeente_by_postcode()[self.postcode])
        if fold(self.gemeente) in quality.postcodes_by_gemeente():
            return fold(self.gemeente)
        return fold(self.gemeente) or None


MAX_CANDIDATES = 10  # per row: enough to decide on, and a file that repeats one name stays small


@dataclass
class _Names:
    """The names of one gemeente, each distinct (key, place words) once with at most MAX_CANDIDATES of its
    verenigingen or rows: a file that repeats one name 100,000 times holds 10 entries for it, not a list
    that grows with every row (each row's candidates were every earlier row: memory grew as rows²)."""

    keys: list[str] = field(default_factory=list)
    compact: list[str] = field(default_factory=list)
    places: list[frozenset[str]] = field(default_factory=list)
    entries: list[list[Candidate]] = field(default_factory=list)
    _at: dict[tuple[str, frozenset[str]], int] = field(default_factory=dict)
    at_address: dict[str, list[int]] = field(default_factory=dict)  # address key → names seen there

    def add(self, name: tuple[str, frozenset[str]], entry: Candidate, address: str = "") -> None:
        at = self._at.get(name)
        if at is None:
            at = self._at[name] = len(self.keys)
            self.keys.append(name[0])
            self.compact.append(name[0].replace(" ", ""))
            self.places.append(name[1])
            self.entries.append([entry])
        elif len(self.entries[at]) < MAX_CANDIDATES:
            self.entries[at].append(entry)
        here = self.at_address.setdefault(address, []) if address else None
        if here is not None and at not in here and len(here) < MAX_CANDIDATES:
            here.append(at)

    def similar(self, name: tuple[str, frozenset[str]], address: str = "") -> list[tuple[Candidate, float]]:
        key, places = name
        best: dict[int, float] = {}
        for index in self.at_address.get(address, ()) if address else ():  # the same address: shared words
            score = fuzz.token_set_ratio(key, self.keys[index])
            if score >= duplicates.THRESHOLD and not _other_places(places, self.places[index]):
                best[index] = score
        for query, choices, scorer in ((key, self.keys, fuzz.ratio), (key, self.keys, fuzz.token_sort_ratio),
                                       (key.replace(" ", ""), self.compact, fuzz.ratio)):
            for _, score, index in process.extract(query, choices, scorer=scorer, limit=None,
                                                   score_cutoff=duplicates.THRESHOLD):
                if not _other_places(places, self.places[index]):
                    best[index] = max(best.get(index, 0), score)
        found = [(entry, round(score, 1)) for index, score in sorted(best.items(), key=lambda p: (-p[1], p[0]))
                 for entry in self.entries[index]]
        return found[:MAX_CANDIDATES]


def address_key(straat: str, huisnummer: str, postcode: str) -> str:
    number = re.match(r"\s*(\d+\s*[a-zA-Z]?)\b", huisnummer or "")
    if not (straat and number and postcode):
        return ""
    return f"{fold(straat)}|{number[1].replace(' ', '').lower()}|{postcode.strip()}"


def _other_places(one: frozenset[str], other: frozenset[str]) -> bool:
    """Both names carry a place and not the same one: 'KWB Wondelgem' and 'KWB Mariakerke' are two
    afdelingen in Gent, although their names without places are equal."""
    return bool(one) and bool(other) and not one & other


def similar_names(one: str, other: str, area: str | None) -> bool:
    """Would the duplicate search call these two names of one gemeente alike?"""
    names = _Names()
    names.add(name_key(other, area), Candidate("", other, "", 100.0))
    return bool(names.similar(name_key(one, area)))


def name_key(naam: str, area: str | None) -> tuple[str, frozenset[str]]:
    """duplicates.normalise_name with the place names of the whole gemeente taken out (one cached pattern per
    gemeente), and the place words it had."""
    for pattern, replacement in ABBREVIATIONS:
        naam = pattern.sub(replacement, naam)
    words = [duplicates.SYNONYMS.get(word, word) for word in duplicates.fold(naam).split()]
    text = " ".join(words)
    places: frozenset[str] = frozenset()
    if area:
        pattern = _places(area)
        places = frozenset(match.group(0).strip() for match in pattern.finditer(text))
        text = pattern.sub(" ", text)
    kept = [word for word in text.split() if word not in duplicates.STOP_WORDS]
    return " ".join(kept) or " ".join(words), places


@cache
def _places(area: str) -> re.Pattern:
    """The gemeente and all its deelgemeente names as one pattern: dropped from names before comparing."""
    places = {area}
    for postcode in quality.postcodes_by_gemeente().get(area, ()):
        places |= quality.place_names(postcode)
    words = sorted({duplicates.fold(place) for place in places} - {""}, key=len, reverse=True)
    return re.compile(r"(?:^| )(?:" + "|".join(re.escape(word) for word in words) + r")(?= |$)")


class Candidates:
    """Duplicate search for one import run."""

    def __init__(self, store: RegisterStore) -> None:
        self.store = store
        self._register: dict[str, _Names] = {}
        self._file: dict[str, _Names] = {}

    def in_register(self, probe: Probe, own: str | None = None) -> list[Candidate]:
        """Look-alikes in the row's gemeente (its deelgemeenten included); for a row without postcode or
        gemeente, in the whole register (read once per import, only when such a row comes)."""
        area = probe.area()
        if not probe.naam:
            return []
        names = self._register.get(area or "")
        if names is None:
            names = self._register[area or ""] = self._load(area, probe)
        key = name_key(probe.naam, area)
        found: dict[str, Candidate] = {}
        for entry, score in names.similar(key, probe.address()):
            if entry.vcode != own and (entry.vcode not in found or found[entry.vcode].score < score):
                found[entry.vcode] = Candidate(entry.ref, entry.naam, entry.adres, score, entry.vcode)
        return sorted(found.values(), key=lambda c: (-c.score, c.ref))

    def in_file(self, probe: Probe, row: int) -> list[Candidate]:
        """Earlier rows that look like this one; then this row is remembered for the rows after it."""
        area = probe.area() or ""
        names = self._file.setdefault(area, _Names())
        key = name_key(probe.naam, area or None)
        found = [Candidate(entry.ref, entry.naam, entry.adres, score)
                 for entry, score in names.similar(key, probe.address())]
        street = " ".join(part for part in (probe.straat, probe.huisnummer) if part)
        place = " ".join(part for part in (probe.postcode, probe.gemeente) if part)
        names.add(key, Candidate(f"rij {row}", probe.naam, ", ".join(p for p in (street, place) if p), 100.0),
                  probe.address())
        return found

    def _load(self, area: str | None, probe: Probe) -> _Names:
        postcodes = None if not area else \
            quality.postcodes_by_gemeente().get(area) or ({probe.postcode} if probe.postcode else set())
        names = _Names()
        for row in self.store.active_at_postcodes(postcodes):
            adres = f"{row['straat']} {row['nummer']}, {row['postcode']} {row['gemeente']}".strip(" ,")
            names.add(name_key(row["naam"], area), Candidate(row["code"], row["naam"], adres, 100.0, row["code"]),
                      address_key(row["straat"] or "", row["nummer"] or "", row["postcode"] or ""))
        return names
