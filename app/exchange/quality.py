"""Checks that catch real mistakes a format check lets through.

- postcode ↔ gemeente: "9000 Gentt" or "9000 Brugge" is an error (the postcode says Gent); a
  deelgemeente name ("9041 Oostakker") is fine; a name we cannot place is a warning.
- e-mail domains that are almost always typos (`gmail.con`, `gmial.com`, `telenet.bee`) are warnings.
Reference data: data/postcodes.csv (postcode → gemeente) and data/postnamen.csv (postcode → every postnaam).
"""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import fuzz

from app.domain.places import BELGIE, gemeente_by_postcode, place_names, postnamen_by_postcode
from app.exchange.normalise import Note, error, fold, warning

TLD_TYPOS = {"con": "com", "cmo": "com", "ocm": "com", "vom": "com", "xom": "com", "coom": "com", "comm": "com",
             "bee": "be", "bbe": "be", "ne": "net", "nte": "net", "ogr": "org"}
DOMAIN_TYPOS = {
    "gmial.com": "gmail.com", "gmal.com": "gmail.com", "gmai.com": "gmail.com", "gnail.com": "gmail.com",
    "gamil.com": "gmail.com", "gmaill.com": "gmail.com", "gmail.be": "gmail.com", "hotmial.com": "hotmail.com",
    "hotmal.com": "hotmail.com", "hotmail.con": "hotmail.com", "hotmai.com": "hotmail.com", "outlok.com": "outlook.com",
    "outloo.com": "outlook.com", "yaho.com": "yahoo.com", "yahooo.com": "yahoo.com", "telenet.b": "telenet.be",
    "telnet.be": "telenet.be", "skynet.b": "skynet.be", "skynett.be": "skynet.be", "proximus.b": "proximus.be",
}


@cache
def postcodes_by_gemeente() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for postcode, gemeente in gemeente_by_postcode().items():
        result.setdefault(fold(gemeente), set()).add(postcode)
    return result


@cache
def postcodes_by_postnaam() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for postcode, names in postnamen_by_postcode().items():
        for name in names:
            result.setdefault(fold(name), set()).add(postcode)
    return result


def same_gemeente_postcodes(postcode: str) -> set[str]:
    """All postcodes of the gemeente a postcode belongs to (its deelgemeenten), itself included."""
    gemeente = gemeente_by_postcode().get(postcode)
    return postcodes_by_gemeente().get(fold(gemeente), {postcode}) if gemeente else {postcode}


def unknown_postcode(postcode: str, gemeente: str, land: str) -> Note | None:
    """A Belgian postcode that does not exist, with the likely one where a letter O or a slip shows it."""
    if fold(land) not in BELGIE or postcode in gemeente_by_postcode():
        return None
    digits = postcode.upper().replace("O", "0").replace("I", "1").replace("L", "1")
    guesses = sorted({digits} & set(gemeente_by_postcode())
                     or postcodes_by_gemeente().get(fold(gemeente), set()))
    hint = f" Bedoelt u {' of '.join(guesses[:3])} ({gemeente_by_postcode()[guesses[0]]})?" if guesses else ""
    return error(f"Postcode '{postcode}' bestaat niet in België.{hint}",
                 "Een Belgische postcode heeft 4 cijfers; verbeter de postcode.")


def canonical_place(postcode: str, gemeente: str) -> str | None:
    """The reference spelling of a (deel)gemeente of this postcode written otherwise ('GENT', 'Sint Amandsberg',
    'St.-Amandsberg'), else None."""
    written = fold(re.sub(r"^st\.?(?=[\s-])", "sint", gemeente.strip(), flags=re.I))
    for name in place_names(postcode) if gemeente.strip() else ():
        if fold(name) == written:
            return name if name != gemeente else None
    return None


def check_place(postcode: str, gemeente: str, land: str) -> Note | None:
    """Does the gemeente fit the postcode (a postcode that does not exist is `unknown_postcode`'s)?"""
    if fold(land) not in BELGIE:
        return None
    expected = gemeente_by_postcode().get(postcode)
    if expected is None:
        return None
    names = place_names(postcode)
    if fold(gemeente) in {fold(name) for name in names}:
        return None
    elsewhere = postcodes_by_gemeente().get(fold(gemeente))
    if elsewhere:
        return error(f"Postcode {postcode} hoort bij {expected}, niet bij {gemeente}.",
                     f"Verbeter de postcode (bv. {min(elsewhere)} voor {gemeente}) of de gemeente ({expected}).")
    other = postcodes_by_postnaam().get(fold(gemeente))
    if other:
        here = " of ".join(sorted(names - {expected})) or expected
        where = here if here == expected else f"{here} ({expected})"
        return error(f"Postcode {postcode} is {where}; {gemeente} heeft postcode {' of '.join(sorted(other))}.",
                     f"Verbeter de postcode ({min(other)} voor {gemeente}) of de gemeente ({here}).")
    closest = max(names, key=lambda name: fuzz.ratio(fold(name), fold(gemeente)))
    if fuzz.ratio(fold(closest), fold(gemeente)) >= 75:
        return error(f"Gemeente '{gemeente}' past niet bij postcode {postcode}: bedoelt u '{closest}'?",
                     f"Schrijf '{closest}'.")
    return warning(f"'{gemeente}' is niet de gemeente ({expected}) of deelgemeente van postcode {postcode} "
                   "volgens onze referentielijst.", f"Controleer postcode en gemeente; {postcode} is {expected}.")


def check_email_domain(address: str) -> Note | None:
    if "@" not in address:
        return None
    local, domain = address.rsplit("@", 1)
    domain = domain.lower()
    suggestion = DOMAIN_TYPOS.get(domain)
    if suggestion is None and "." in domain:
        name, tld = domain.rsplit(".", 1)
        if tld in TLD_TYPOS:
            suggestion = f"{name}.{TLD_TYPOS[tld]}"
    if suggestion is None:
        return None
    return warning(f"E-mailadres '{address}' bevat waarschijnlijk een tikfout in het domein.",
                   f"Bedoelt u '{local}@{suggestion}'? Verbeter het, of laat het staan als het echt zo is.")
