"""Format checks for identifiers and contact data, delegated to well-kept libraries.

Each check returns the normalised value or raises ValueError with a Dutch message, so the
domain layer can attach it to the right field path.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban
from stdnum.be import bis, nn, vat

_HTML = re.compile(r"<.*?>", re.S)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSZ_CHARS = re.compile(r"^[0-9.\- ]+$")


def contains_html(value: str) -> bool:
    return bool(_HTML.search(value))


def parse_date(value: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("Datum moet van het formaat 'yyyy-MM-dd' zijn.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("Datum moet van het formaat 'yyyy-MM-dd' zijn.") from None


def email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValueError("E-mail voldoet niet aan het verwachte formaat (naam@domein.vlaanderen).") from None
    return result.normalized


def telephone(value: str) -> str:
    """A valid phone number (Belgian when no country code), in international notation."""
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        raise ValueError("Telefoonnummer voldoet niet aan het verwachte formaat.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Telefoonnummer is geen geldig nummer.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_key(value: str) -> str:
    """Comparison key for phone numbers: E.164, so '0412 34 56 78' equals '+32 412 34 56 78'."""
    number = phonenumbers.parse(value, "BE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def web_address(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "." not in parts.netloc:
        raise ValueError("Een website of social media link moet beginnen met 'http://' of 'https://' "
                         "en een domeinnaam bevatten.")
    return value.strip()


def insz(value: str) -> str:
    """INSZ: national register number or BIS number, stored as 11 digits."""
    if not isinstance(value, str) or not _INSZ_CHARS.match(value):
        raise ValueError("Foutieve tekens in INSZ.")
    digits = re.sub(r"[.\- ]", "", value)
    if len(digits) != 11:
        raise ValueError("INSZ moet 11 cijfers bevatten.")
    if not (nn.is_valid(digits) or bis.is_valid(digits)):
        raise ValueError("Incorrect INSZ: foutieve checksum.")
    return digits


def kbo_number(value: str) -> str:
    digits = re.sub(r"[. ]", "", value or "")
    if not digits.isdigit():
        raise ValueError("Foutieve tekens in Kbo nummer.")
    if len(digits) != 10:
        raise ValueError("Kbo nummer moet 10 cijfers bevatten.")
    if not vat.is_valid(digits):
        raise ValueError("Incorrect Kbo nummer: foutieve checksum.")
    return digits


def belgian_iban(value: str) -> str:
    """A Belgian IBAN, stored in groups of four ('BE68 5390 0754 7034')."""
    if not isinstance(value, str) or not value.startswith("BE"):
        raise ValueError("Een bankrekeningnummer moet een Belgisch IBAN zijn (begint met BE).")
    compact = re.sub(r"[. ]", "", value)
    if not iban.is_valid(compact):
        raise ValueError("Het IBAN is ongeldig (lengte of controlegetal).")
    return iban.format(compact)
