"""Accent folding, the one step every comparison of names and places shares."""

from __future__ import annotations

import unicodedata


def without_accents(text: str) -> str:
    """`text` decomposed (NFKD) without its combining marks: "Café" → "Cafe". ASCII text is returned as it
    is (nothing to decompose: nearly every name, and the check is far cheaper than the decomposition)."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")  # nor a zero-width joiner
