"""Format checks for identifiers and contact data, delegated to well-kept libraries.

Each check returns the normalised value or raises ValueError with a Dutch message that says
what is wrong, so the domain layer can attach it to the right field path.

Identifiers (KBO, INSZ, IBAN, postcode, huisnummer, V-code, OVO) accept ASCII only: Python's
`str.isdigit()` and `\\d` also match other scripts' digits ('０２０２…'), which would store the same
number under a second spelling.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from functools import lru_cache
from urllib.parse import quote, urlsplit

import phonenumbers
import pyoxigraph
from email_validator import EmailNotValidError, validate_email
from stdnum import iban
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

_HTML = re.compile(r"<.*?>", re.S)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INSZ_CHARS = re.compile(r"^[0-9.\- ]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_IBAN_CHARS = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,11}$")
_HUISNUMMER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,/\-]{0,19}$")
_OVO = re.compile(r"OVO[0-9]{6}")
# Characters that are not valid in an IRI (RFC 3987) but do occur in pasted web addresses.
_IRI_UNSAFE = re.compile(r"[\x00-\x20<>\"{}|\\^`\x7f]|%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^[^\s/?#@:]+(?:\.[^\s/?#@:.]+)+\.?$")


def contains_html(value: str) -> bool:
    return bool(_HTML.search(value))


def parse_date(value: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("Datum moet van het formaat 'yyyy-MM-dd' zijn.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is geen bestaande datum.") from None


@lru_cache(maxsize=4096)  # a row's value is read, parsed and checked again on the way: parse each text once
def email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValueError("E-mail voldoet niet aan het verwachte formaat (naam@domein.vlaanderen).") from None
    return result.normalized


def telephone(value: str) -> str:
    """A valid phone number (Belgian when no country code), in international notation."""
    return _phone(value)[0]


def phone_key(value: str) -> str:
    """Comparison key for phone numbers: E.164, so '0412 34 56 78' equals '+32 412 34 56 78'."""
    known = _PHONES.get(value)
    if known is not None:
        return known[1]
    number = phonenumbers.parse(value, "BE")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# text → (international, E.164) of valid numbers: an imported number is read as typed, then parsed again in its
# international form and compared by its E.164 key; phonenumbers.parse took 0.1 ms each time
_PHONES: dict[str, tuple[str, str]] = {}


def _phone(value: str) -> tuple[str, str]:
    known = _PHONES.get(value)
    if known is not None:
        return known
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        raise ValueError("Telefoonnummer voldoet niet aan het verwachte formaat.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Telefoonnummer is geen geldig nummer.")
    found = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
             phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if len(_PHONES) > 20_000:
        _PHONES.clear()
    _PHONES[value] = _PHONES[found[0]] = found
    return found


def web_address(value: str) -> str:
    """An http(s) address with a domain name, stored as a valid IRI.

    The official register accepts anything that starts with http(s):// and has a dot; spaces,
    braces and the like in the path or query are percent-encoded instead of refused.
    """
    message = ("Een website of social media link moet beginnen met 'http://' of 'https://' "
               "en een domeinnaam bevatten.")
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(message) from None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host) or _is_ip_address(host):
        raise ValueError(message)
    if parts.username is not None or parts.password is not None:  # would publish a password
        raise ValueError("Een website-adres bevat geen gebruikersnaam of wachtwoord ('gebruiker:wachtwoord@'); "
                         "laat dat deel weg.")
    encoded = _IRI_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), text)
    try:
        pyoxigraph.NamedNode(encoded)
    except ValueError:
        raise ValueError(message) from None
    return encoded


def _is_ip_address(host: str) -> bool:
    """An IP address is no domain name (and a private one points into someone's own network)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _birth_date_possible(digits: str) -> bool:
    """INSZ digits 3-4 hold the birth month (+20 or +40 for a BIS number).

    Month 0 means the birth date was unknown (or the day counter ran out): any day goes.
    """
    month, day = int(digits[2:4]), int(digits[4:6])
    if month > 52 or month % 20 > 12:
        return False
    return month % 20 == 0 or day <= 31


def _insz_checksum(digits: str) -> bool:
    """97 − (first nine mod 97) equals the last two; with a leading 2 for births from 2000 on."""
    check = int(digits[9:])
    return any(97 - int(prefix + digits[:9]) % 97 == check for prefix in ("", "2"))


def insz(value: str) -> str:
    """INSZ: national register number or BIS number, stored as 11 digits."""
    if not _INSZ_CHARS.match(_text(value, "INSZ")):
        raise ValueError("Foutieve tekens in INSZ: enkel cijfers, punten en streepjes "
                         "(00.00.00-000.00 of 00000000000).")
    digits = re.sub(r"[.\- ]", "", value)
    if len(digits) != 11:
        raise ValueError("INSZ moet 11 cijfers bevatten.")
    if not _birth_date_possible(digits):
        raise ValueError(f"INSZ bevat een onmogelijke geboortedatum (maand {digits[2:4]}, dag {digits[4:6]}).")
    if not _insz_checksum(digits):
        raise ValueError("Incorrect INSZ: foutieve checksum.")
    return digits


def _text(value: object, what: str) -> str:
    if value is None or value == "":
        raise ValueError(f"{what} is verplicht.")
    if not isinstance(value, str):
        raise ValueError(f"{what} moet een tekst zijn.")
    return value


def kbo_number(value: str) -> str:
    digits = re.sub(r"[. ]", "", _text(value, "Kbo nummer"))
    if not _DIGITS.match(digits):
        raise ValueError("Foutieve tekens in Kbo nummer: enkel cijfers (0-9), punten en spaties.")
    if len(digits) != 10:
        raise ValueError("Kbo nummer moet 10 cijfers bevatten.")
    if 97 - int(digits[:8]) % 97 != int(digits[8:]):
        raise ValueError("Incorrect Kbo nummer: foutieve checksum.")
    return digits


def belgian_iban(value: str) -> str:
    """A Belgian IBAN, stored in groups of four ('BE68 5390 0754 7034').

    As the official register: the raw value starts with 'BE'; only dots and spaces are removed
    (dashes make it invalid); then length and check digits are verified. The bank code is not
    looked up (the official register does not either, and bank lists go stale).
    """
    if not _text(value, "IBAN").startswith("BE"):
        raise ValueError("Een bankrekeningnummer moet een Belgisch IBAN zijn (begint met hoofdletters BE).")
    compact = re.sub(r"[. ]", "", value)
    if not _IBAN_CHARS.match(compact):
        raise ValueError("Foutieve tekens in IBAN: enkel 'BE' gevolgd door cijfers, eventueel met spaties of "
                         "punten (BE68 5390 0754 7034).")
    if len(compact) != 16:
        raise ValueError(f"Een Belgisch IBAN heeft 16 tekens, niet {len(compact)}.")
    try:
        iban.validate(compact, check_country=False)
    except InvalidChecksum:
        raise ValueError("Incorrect IBAN: foutief controlegetal (de 2 cijfers na 'BE').") from None
    except InvalidLength:
        raise ValueError(f"Een Belgisch IBAN heeft 16 tekens, niet {len(compact)}.") from None
    except ValidationError:
        raise ValueError("Het IBAN is ongeldig.") from None
    account = compact[4:]
    if (int(account[:10]) % 97 or 97) != int(account[10:]):
        raise ValueError("Incorrect IBAN: het Belgische rekeningnummer heeft een foutief controlegetal "
                         "(de laatste 2 cijfers).")
    return iban.format(compact)


def postcode(value: str) -> str:
    """Letters, digits, spaces and dashes (foreign postcodes such as '1012 AB' or 'SW1A 1AA')."""
    if not _POSTCODE.match(value):
        raise ValueError("Een postcode bestaat uit cijfers en letters (A-Z, 0-9), hoogstens 12 tekens.")
    return value


def huisnummer(value: str) -> str:
    """'10', '10A', '12-14', '5/1', '3 bis': ASCII letters, digits and a few separators."""
    if not _HUISNUMMER.match(value):
        raise ValueError("Een huis- of busnummer bestaat uit cijfers en letters (A-Z, 0-9) en eventueel "
                         "'-', '/', '.' of een spatie, hoogstens 20 tekens.")
    return value


def ovo_code(value: str) -> str:
    """An OVO code from the Wegwijs organisation register: 'OVO' + 6 digits."""
    if not isinstance(value, str) or not _OVO.fullmatch(value):
        raise ValueError("Een OVO-code heeft de vorm 'OVO' gevolgd door 6 cijfers (OVO000001).")
    return value


def is_digits(value: str) -> bool:
    return bool(_DIGITS.match(value))
