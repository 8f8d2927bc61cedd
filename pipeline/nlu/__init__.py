"""Deterministic understanding (stages A+B without a language model): the catalog's declared
words, general English and the inventory; no tool names of its own."""

from pipeline.nlu.understander import DeterministicUnderstander

__all__ = ["DeterministicUnderstander"]
