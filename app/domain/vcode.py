"""V-codes: 'V' + 7 digits, handed out from V0001001 upwards and never reused."""

from __future__ import annotations

import re

_VCODE = re.compile(r"^[Vv]([0-9]{7})$")  # ASCII digits only: \d also matches '０'


def format_vcode(number: int) -> str:
    return f"V{number:07d}"


def parse_vcode(value: str) -> str | None:
    """Canonical V-code, or None when the text is not a V-code the register can have issued."""
    match = _VCODE.match(value or "")
    if not match or int(match.group(1)) < 1001:
        return None
    return "V" + match.group(1)
