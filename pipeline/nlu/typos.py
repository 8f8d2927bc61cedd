"""Typos in ordinary words ('waht', 'chekc', 'restrat', 'memroy', 'prodution').

A word nobody knows is read as the one known word it is a small slip away from: one edit
(a transposition counts once), two for words of eight letters or more; four-letter words only
when their letters are the same ('pnig'); the candidate must be unique (a shared first letter
breaks a tie). Known words: general English and operations words, every word the catalog
declares, and the inventory's vocabulary. Host names are looked up elsewhere (with digits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pipeline.nlu.english import stem
from pipeline.nlu.inventory import edit_distance, within_one


class Corrector:
    """Corrects words against one vocabulary (build one per catalog and inventory)."""

    def __init__(self, known: Iterable[str], english: Callable[[], frozenset[str]] = frozenset) -> None:
        self.known = frozenset(w for w in known if w)
        self.english = english  # real words are never corrected (loaded when first needed)
        self._long = tuple(sorted(w for w in self.known if len(w) >= 4 and w.isalpha()))
        self._memo: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self.known or len(word) < 4 or not word.isalpha():
            return word
        if word not in self._memo:
            self._memo[word] = word if word in self.english() else self._closest(word)
        return self._memo[word]

    def _closest(self, word: str) -> str:
        limit = 2 if len(word) >= 8 else 1
        best = [w for w in self._long if abs(len(w) - len(word)) <= 1 and within_one(word, w)]
        if not best and limit == 2:
            best = [w for w in self._long if abs(len(w) - len(word)) <= 2 and edit_distance(word, w, 2) <= 2]
        if len(best) > 1:  # typos rarely change the first letter: 'rstart' is restart, not start
            best = [w for w in best if w[0] == word[0]]
        if len(best) > 1 and len({stem(w) for w in best}) == 1:
            best = [min(best, key=len)]  # 'pingg': ping or pings, the same word
        if len(best) != 1:
            return word
        if len(word) == 4 and sorted(word) != sorted(best[0]):
            return word
        return best[0]
