"""Which words are English: a typo is corrected only in a word that is not one.

The word list is pyspellchecker's English frequency dictionary (loaded once per process); words
seen fewer than `_MIN_COUNT` times there are left out (they are mostly misspellings themselves).
"""

from __future__ import annotations

import functools

_MIN_COUNT = 50


@functools.cache
def english() -> frozenset[str]:
    from spellchecker import SpellChecker

    counts = SpellChecker(distance=1).word_frequency
    return frozenset(word for word, count in counts.items() if count >= _MIN_COUNT)
