"""The indexed words behind "Bedoelde u …?": which word a mistyped one most likely meant.

Words of four letters or more without digits, with how many records hold them. The distance counts an
insertion, a removal, a replacement or two neighbours swapped ('gnet' → 'gent', 'sprot' → 'sport': optimal
string alignment) as one. A word within distance 1 (up to five letters) or 2 (longer) can only differ in length
by that distance,
so the candidates are read from a few length groups instead of the whole word list (rapidfuzz then
compares only those); among the closest, the most frequent word wins.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import accumulate

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.domain.accents import without_accents

WORD = re.compile(r"\w+")
# Dutch function words of four letters or more: frequent in descriptions, so they won every tie for a
# mistyped word ('koor' became 'voor' and found every vereniging "voor jongeren"); never suggested.
FUNCTION_WORDS = frozenset("""
aan aldus alle alles als andere anders bij daar daarna daarom dan dat deze die dit door doch doen eens elke
en enkele enz geen haar heeft hebben hier hierin hun iets jaar jullie kunnen maar meer mede mits naar naast
niet niets noch nooit omdat onder ons onze ook over samen sinds slechts soms tegen tijdens toch totdat tussen
uit vaak van veel voor vooral waar waarin want wat welke werd wie wil worden wordt zeer zich zijn zoals zodat
zonder zowel zullen
""".split())


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    """The code lists' codes: indexed beside their labels (SPRT and "Sport") so a code finds its verenigingen,
    but never a suggestion for a person ('sprot' is "sport", not "sprt")."""
    from app.domain import codelists

    return frozenset(fold(concept.code) for scheme in codelists.codelists().values() for concept in scheme.concepts)


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
        self._joined: tuple[str, list[int]] | None = None  # every term in one string, for `containing`

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
        self._joined = None

    def containing(self, folded: str, limit: int = 64) -> list[str]:
        """Indexed words that hold `folded` after their start: Dutch writes compounds as one word, so
        'tennis' is in 'tafeltennisclub' and 'koor' in 'kerkkoor' (a prefix match finds only 'tennisclub').
        The most frequent first, at most `limit`. The words are searched as one string (in C, about a
        millisecond for a million records' words) rather than one by one."""
        if self._joined is None:  # built again after new words (a write), once per search at most
            starts = list(accumulate((len(term) + 1 for term in self.terms), initial=0))
            self._joined = ("\n".join(self.terms) + "\n", starts)
        joined, starts = self._joined
        found: set[str] = set()
        at = joined.find(folded, 1)
        while at != -1:
            index = bisect.bisect_right(starts, at) - 1
            if starts[index] != at:  # not at the start of its word
                found.add(self.terms[index])
            at = joined.find(folded, at + 1)
        return sorted(found, key=lambda term: (-self.frequency[term], term))[:limit]

    def starts_a_word(self, folded: str) -> bool:
        at = bisect.bisect_left(self.terms, folded)
        return at < len(self.terms) and self.terms[at].startswith(folded)

    def closest(self, folded: str) -> str | None:
        """The indexed word nearest to `folded` (ties: the most frequent, then alphabetical), if near enough."""
        limit = 1 if len(folded) <= 5 else 2
        candidates = [term for length in range(len(folded) - limit, len(folded) + limit + 1)
                      for term in self.by_length.get(length, ())]
        candidates = [term for term in candidates if term not in FUNCTION_WORDS and term not in _codes()]
        close = process.extract(folded, candidates, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not close:
            return None
        return min(close, key=lambda match: (match[1], -self.frequency[match[0]], match[0]))[0]
