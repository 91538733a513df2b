"""The indexed words behind "Bedoelde u …?": which word a mistyped one most likely meant.

Words of four letters or more without digits, with how many records hold them. A word within
Levenshtein distance 1 (up to five letters) or 2 (longer) can only differ in length by that distance,
so the candidates are read from a few length groups instead of the whole word list (rapidfuzz then
compares only those); among the closest, the most frequent word wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from app.domain.accents import without_accents

WORD = re.compile(r"\w+")


def fold(word: str) -> str:
    """Lower case without diacritics, as the FTS5 tokenizer (unicode61 remove_diacritics 2) folds."""
    return without_accents(word.casefold())


def words_of(text: str | None) -> list[str]:
    return WORD.findall(text or "")


@lru_cache(maxsize=1 << 16)
def _kept(word: str) -> str | None:
    """The folded word if the vocabulary keeps it. Cached: an import indexes the same names, streets and
    places thousands of times, and folding them again was the largest part of indexing a record."""
    folded = fold(word)
    return folded if Vocabulary.wanted(folded) else None


class Vocabulary:
    def __init__(self, frequency: dict[str, int]) -> None:
        self.frequency = frequency
        self.terms = sorted(frequency)  # for "does an indexed word start with this?"
        self.by_length: dict[int, list[str]] = {}
        for term in self.terms:
            self.by_length.setdefault(len(term), []).append(term)

    @staticmethod
    def wanted(word: str) -> bool:
        return len(word) >= 4 and not any(ch.isdigit() for ch in word)

    def learn(self, texts: Iterable[str | None]) -> None:
        """Count the words of one more record."""
        raw = {w for text in texts if text for w in WORD.findall(text)}
        for word in {kept for w in raw if (kept := _kept(w))}:
            if word not in self.frequency:
                bisect.insort(self.terms, word)
                self.by_length.setdefault(len(word), []).append(word)
            self.frequency[word] = self.frequency.get(word, 0) + 1

    def starts_a_word(self, folded: str) -> bool:
        at = bisect.bisect_left(self.terms, folded)
        return at < len(self.terms) and self.terms[at].startswith(folded)

    def closest(self, folded: str) -> str | None:
        """The indexed word nearest to `folded` (ties: the most frequent, then alphabetical), if near enough."""
        limit = 1 if len(folded) <= 5 else 2
        candidates = [term for length in range(len(folded) - limit, len(folded) + limit + 1)
                      for term in self.by_length.get(length, ())]
        close = process.extract(folded, candidates, scorer=Levenshtein.distance, score_cutoff=limit, limit=None)
        if not close:
            return None
        return min(close, key=lambda match: (match[1], -self.frequency[match[0]], match[0]))[0]
