"""Where a vereniging is: the gemeenten (werkingsgebied codes) of its locaties' postcodes."""

from __future__ import annotations

import csv
import re
from functools import cache

from app import paths
from app.domain import codelists
from app.domain.duplicates import fold


@cache
def _postcodes() -> dict[str, tuple[str, str]]:
    """Postcode → (NUTS3+LAU gemeente code, gemeente name), data/postcodes.csv from the official reference table."""
    with (paths.DATA / "postcodes.csv").open(encoding="utf-8") as handle:
        return {row["postcode"]: (row["code"], row["gemeente"]) for row in csv.DictReader(handle)}


@cache
def postcode_table() -> dict[str, str]:
    """Postcode → gemeente code."""
    return {postcode: code for postcode, (code, _) in _postcodes().items()}


@cache
def gemeente_by_postcode() -> dict[str, str]:
    """Postcode → gemeente name (the main gemeente of a deelgemeente: 9040 Sint-Amandsberg is Gent)."""
    return {postcode: name for postcode, (_, name) in _postcodes().items()}


@cache
def postnamen_by_postcode() -> dict[str, frozenset[str]]:
    """Every place name of a postcode: deelgemeenten that share one (9051 Afsnee, Sint-Denijs-Westrem) each count."""
    found: dict[str, set[str]] = {}
    with (paths.DATA / "postnamen.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["postcode"], set()).add(row["postnaam"])
    return {postcode: frozenset(names) for postcode, names in found.items()}


def place_names(postcode: str) -> set[str]:
    """The gemeente and every postnaam (deelgemeente) of a postcode, as people write them."""
    gemeente = gemeente_by_postcode().get(postcode)
    return {*postnamen_by_postcode().get(postcode, ()), *([gemeente] if gemeente else [])}


BELGIE = {"", "belgie", "belgium", "belgique", "be", "b"}  # folded; an address without a land is Belgian


def in_belgium(land: str) -> bool:
    return fold(land or "") in BELGIE


def fits(postcode: str, gemeente: str) -> bool:
    """Does the (deel)gemeente belong to this Belgian postcode ('Sint Amandsberg', 'St.-Amandsberg' for 9040)?"""
    written = fold(re.sub(r"^st\.?(?=[\s-])", "sint", (gemeente or "").strip(), flags=re.I))
    return written in {fold(name) for name in place_names(postcode)}


def named_gemeenten(state: dict | None) -> dict[str, str]:
    """Code → name of the gemeenten of a state's addresses with a known postcode."""
    table = _postcodes()
    return dict(table[loc["adres"]["postcode"]] for loc in (state or {}).get("locaties") or ()
                if loc.get("adres") and loc["adres"].get("postcode") in table)


def gemeenten(state: dict | None) -> set[str]:
    return set(named_gemeenten(state))


def concerned(state: dict | None) -> set[str]:
    """The gemeenten a change of this state concerns: those of its locations and the gemeenten among its
    werkingsgebieden (not provinces: a province has no gemeente view). The change stream's per-gemeente view
    and `vrx:gemeente` group versions on these, as a melding for a gemeente matches them."""
    if not state:
        return set()
    return gemeenten(state) | {code for code in state.get("werkingsgebieden") or () if len(code) == 10}


def gemeente_code(text: str) -> str | None:
    """A gemeente's werkingsgebied code from that code (BE23444021), its NIS code (44021), its name ('Gent',
    'sint niklaas': case, accents and punctuation ignored), one of its postcodes (9050) or the name of one of its
    deelgemeenten ('Gentbrugge'); None for anything else."""
    return _gemeente_keys().get(fold(text)) if isinstance(text, str) else None


@cache
def _gemeente_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for concept in codelists.get("werkingsgebieden").concepts:
        if len(concept.code) == 10:  # NUTS3 + LAU: a gemeente (not a province or region)
            for key in (concept.code, concept.code[-5:], concept.label):
                keys.setdefault(fold(key), concept.code)
    table = postcode_table()
    for postcode, code in table.items():
        keys.setdefault(postcode, code)
    by_name: dict[str, set[str]] = {}
    for postcode, names in postnamen_by_postcode().items():
        for name in names:
            if postcode in table:
                by_name.setdefault(fold(name), set()).add(table[postcode])
    for name, codes in by_name.items():
        if len(codes) == 1:  # a deelgemeente name two gemeenten share says neither
            keys.setdefault(name, codes.pop())
    return keys
