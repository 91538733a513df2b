"""Register errors in the words of a spreadsheet: which column, what is wrong, how to fix it.

The write path reports problems by field path (`locaties[0].adres.huisnummer`) for API clients. An
import report speaks of the bestuur's columns instead and always says what to do; no field paths,
no HTTP or API terms.
"""

from __future__ import annotations

import re

from app.validation.errors import FieldError

FIXES = {
    "verplicht": "Vul kolom '{column}' in.",
    "onbekende-code": "Kies een waarde uit het werkblad 'Codelijsten' van het sjabloon.",
    "dubbele-waarde": "Laat de dubbele waarde weg.",
    "te-veel": "Hou de 3 belangrijkste over.",
    "te-lang": "Maak de tekst korter.",
    "html": "Laat tekens als < en > weg.",
    "ongeldige-naam": "Een naam bestaat uit letters, zonder cijfers.",
    "insz": "Controleer het rijksregisternummer (11 cijfers, staat achteraan op de identiteitskaart).",
    "kbo-nummer": "Controleer het ondernemingsnummer (10 cijfers, bv. 0202.239.951) in de KBO.",
    "formaat": "Verbeter de waarde in kolom '{column}'.",
    "leeftijd-bereik": "Geef een leeftijd tussen 0 en 150.",
    "geen-getal": "Schrijf enkel een getal, bv. 12.",
    "kbo-type": "Gebruik het KBO-sjabloon (import-kbo.xlsx) voor VZW's en stichtingen.",
    "geen-kbo-type": "Dit sjabloon is voor VZW, IVZW, private stichting en stichting van openbaar nut.",
}
DEFAULT_FIX = "Verbeter de waarde in kolom '{column}'."
INTERNAL = re.compile(r"\b(request|body|header|token|SHACL|JSON|API|POST|PATCH)\b", re.I)


def explain(error: FieldError, column: str, value: str) -> tuple[str, str]:
    """A message naming the column and the value, and a fix, for one field error."""
    column = column or "(hele rij)"
    message = _plain(error.message, column)
    if value and value not in message:
        message = f"{message.rstrip('.')}: '{value}'."
    fix = FIXES.get(error.code, DEFAULT_FIX).format(column=column)
    if error.code == "shacl":
        message = f"Kolom '{column}' voldoet niet aan de regels van het register: {message}"
    return message, fix


# The register's own wording (as the official register's API says it), in words a civil servant reads.
PLAIN = {
    "Incorrect INSZ: foutieve checksum.": "Het rijksregisternummer klopt niet: de laatste twee cijfers (het "
                                         "controlegetal) passen niet bij de andere.",
    "Incorrect Kbo nummer: foutieve checksum.": "Het ondernemingsnummer klopt niet: de laatste twee cijfers (het "
                                                "controlegetal) passen niet bij de andere.",
}


def _plain(message: str, column: str) -> str:
    """Name the column instead of the internal field ('huisnummer' → 'Huisnummer')."""
    message = PLAIN.get(message, message)
    message = re.sub(r"'[a-zA-Z]+' is verplicht( en mag niet leeg zijn)?\.", f"Kolom '{column}' is leeg.", message)
    message = re.sub(r"^'[a-zA-Z]+' ", f"'{column}' ", message)
    return INTERNAL.sub("gegevens", message)
