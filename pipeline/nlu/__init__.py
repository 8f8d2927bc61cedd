"""Deterministic understanding (stages A+B without a language model): grammar, lexicon, entities."""

from pipeline.nlu.understander import DeterministicUnderstander

__all__ = ["DeterministicUnderstander"]
