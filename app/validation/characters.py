"""Characters no text of the register may hold, one rule for every way in (JSON, Turtle, an import).

Control characters and Unicode non-characters make RDF/XML not well-formed; lone surrogates are no text;
bidirectional overrides make text display otherwise than it is; invisible characters (a zero-width space,
a soft hyphen, a word joiner, a Hangul filler, tags, private-use characters) make two names that look the
same compare different, so a duplicate passes the duplicate check and a search does not find the name.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)) + "]")
_BIDI = re.compile(r"[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# invisible: soft hyphen, combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian vowel
# separator, zero-width space, line/paragraph separators, word joiner and invisible operators, deprecated
# format characters, byte order mark, tags, private use (zero-width (non-)joiners stay: emoji and scripts use them)
INVISIBLE = ("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2028\u2029\u2060-\u2064\u206a-\u206f\u3164"
             "\ufeff\uffa0\U000e0000-\U000e007f\ue000-\uf8ff\U000f0000-\U0010fffd")
_INVISIBLE = re.compile(f"[{INVISIBLE}]")

RULES = ((_SURROGATE, "ongeldig-teken", "een ongeldig Unicode-teken (losse surrogaat "),
         (_CONTROL, "stuurteken", "een niet toegestaan stuurteken ("),
         (_NONCHARACTER, "ongeldig-teken", "een Unicode-teken dat geen tekst is ("),
         (_BIDI, "ongeldig-teken", "een teken dat de tekstrichting omkeert ("),
         (_INVISIBLE, "onzichtbaar-teken", "een onzichtbaar teken ("))


def forbidden(value: str) -> tuple[str, str] | None:
    """(code, what is wrong, in Dutch, to follow "'veld' bevat ") for the first forbidden character, or None."""
    for pattern, code, what in RULES:
        found = pattern.search(value)
        if found:
            return code, f"{what}U+{ord(found.group(0)):04X})"
    return None


def without_invisible(value: str) -> str:
    """The text without its invisible characters (a spreadsheet cell copied from a web page)."""
    return _INVISIBLE.sub("", value) if not value.isascii() else value
