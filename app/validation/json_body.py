"""Untrusted JSON in: decoded, bounded and cleaned before any domain code sees it.

The edge refuses, with a Dutch message and the field's path, what no field of the register may
hold: nesting deeper than any real body (the schema is 4 levels deep; 50,000 levels would
exhaust the parser's stack), duplicate keys, NaN/Infinity, numbers beyond 64 bits, lone UTF-16
surrogates, control characters, Unicode non-characters, bidirectional overrides and invisible
characters (app/validation/characters.py), and any text longer than MAX_TEXT. Remaining text is
NFC-normalised, so 'é' typed as one or two code points is the same name.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from app.validation import characters
from app.validation.errors import CommandRejected, FieldError

MAX_DEPTH = 32  # JSON-LD in expanded form nests deeper than our compact bodies; 32 covers both
MAX_TEXT = 5000  # characters in any one string; fields have their own, smaller limits
MAX_ERRORS = 20
MAX_INT = 2**63


# What json.JSONDecodeError says, in Dutch.
_SYNTAX = {
    "Expecting ',' delimiter": "hier werd een komma verwacht",
    "Expecting ':' delimiter": "hier werd een dubbele punt verwacht",
    "Expecting property name enclosed in double quotes": "hier werd een eigenschapsnaam tussen dubbele "
                                                         "aanhalingstekens verwacht",
    "Expecting value": "hier werd een waarde verwacht",
    "Extra data": "na het einde van de JSON volgt nog tekst",
    "Unterminated string starting at": "een tekst werd niet afgesloten met een dubbel aanhalingsteken",
    "Invalid control character at": "een tekst bevat een stuurteken dat met een backslash moet beginnen",
    "Invalid \\escape": "ongeldige escape (\\) in een tekst",
    "Invalid \\uXXXX escape": "ongeldige \\uXXXX-escape in een tekst",
    "Illegal trailing comma before end of object": "een komma vóór het einde van een object",
    "Illegal trailing comma before end of array": "een komma vóór het einde van een lijst",
}
GENERIC = "Request kon niet correct behandeld worden. Controleer het formaat en probeer het opnieuw."


def refused(path: str, code: str, message: str, title: str = "Ongeldige aanvraag") -> CommandRejected:
    return CommandRejected(400, code, title, message, [FieldError(path, code, message)])


class _Refusal(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _Refusal("dubbele-eigenschap", f"De eigenschap '{key}' komt meer dan één keer voor in "
                                                 "hetzelfde object.")
        result[key] = value
    return result


def _constant(name: str) -> float:
    raise _Refusal("geen-getal", f"'{name}' is geen JSON-getal.")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refusal("getal-te-groot", f"Het getal {text[:40]} is te groot.")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(int(text)) >= MAX_INT:
        raise _Refusal("getal-te-groot", f"Het getal {text[:40]}… is te groot." if len(text) > 40 else
                       f"Het getal {text} is te groot.")
    return int(text)


def decode(text: str) -> Any:
    """Parse a JSON body and check every key and value; raise CommandRejected (400) on any problem."""
    try:
        doc = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float,
                         parse_int=_int)
    except RecursionError:
        raise refused("", "te-diep", f"De JSON is te diep genest (hoogstens {MAX_DEPTH} niveaus).") from None
    except json.JSONDecodeError as exc:
        reason = next((dutch for english, dutch in _SYNTAX.items() if exc.msg.startswith(english)),
                      "ongeldige JSON-syntaxis")
        raise refused("", "ongeldige-json", f"{GENERIC} De body is geen geldige JSON: {reason} (regel "
                      f"{exc.lineno}, kolom {exc.colno}).", "Ongeldige JSON") from None
    except _Refusal as exc:
        raise refused("", exc.code, str(exc)) from None
    return clean(doc)


def clean(doc: Any) -> Any:
    """Check nesting, keys and text of an already decoded body (JSON, or Turtle read into JSON-LD)."""
    errors: list[FieldError] = []
    result = _clean(doc, "", 1, errors)
    if errors:
        raise CommandRejected(400, "validatie", "Validatie mislukt", "De aanvraag bevat ongeldige tekst.",
                              errors[:MAX_ERRORS])
    return result


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _clean(value: Any, path: str, depth: int, errors: list[FieldError]) -> Any:
    if depth > MAX_DEPTH:
        raise refused(path, "te-diep", f"De JSON is te diep genest (hoogstens {MAX_DEPTH} niveaus).")
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            clean_key = text_problem(key, path, errors) if isinstance(key, str) else key
            result[clean_key] = _clean(item, _join(path, clean_key), depth + 1, errors)
        return result
    if isinstance(value, list):
        return [_clean(item, _join(path, index), depth + 1, errors) for index, item in enumerate(value)]
    if isinstance(value, str):
        return text_problem(value, path, errors)
    return value


def text_problem(value: str, path: str, errors: list[FieldError], max_len: int = MAX_TEXT) -> str:
    """`value` NFC-normalised, or unchanged with an error appended when it holds forbidden characters."""
    where = path or "body"
    found = characters.forbidden(value)
    if found:
        errors.append(FieldError(where, found[0], f"'{where}' bevat {found[1]}."))
        return value
    if len(value) > max_len:
        errors.append(FieldError(where, "te-lang", f"'{where}' is te lang: hoogstens {max_len} tekens."))
        return value
    return unicodedata.normalize("NFC", value)


def check_text(value: str, path: str, max_len: int = MAX_TEXT) -> str:
    """One header-borne text (VR-Reden): cleaned, or CommandRejected (400)."""
    errors: list[FieldError] = []
    result = text_problem(value, path, errors, max_len)
    if errors:
        raise CommandRejected(400, errors[0].code, "Ongeldige aanvraag", errors[0].message, errors)
    return result
