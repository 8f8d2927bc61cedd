"""Entity recognition for one clause: targets and selectors against the inventory, then typed values.

    recognise(tokens, index, words) -> Parse(tokens, targets, values, claimed)

Order matters and is fixed: phrases of the catalog that hold a host noun ('name servers'),
exclusions, host names and ranges, descriptions of named hosts, selectors, raw DNS names,
then values (services, ports, numbers, durations, paths, quoted text, recipients).
"""

from __future__ import annotations

from pipeline.nlu.apposition import mark_descriptions
from pipeline.nlu.clauses import is_data_colon
from pipeline.nlu.english import CARDINALS, stem
from pipeline.nlu.inventory import InventoryIndex, is_fqdn
from pipeline.nlu.lexicon import HOST_NOUNS
from pipeline.nlu.parse import Claims, Parse, Targets, Value
from pipeline.nlu.selectors import read_selector
from pipeline.nlu.targets import exclusion_start, exclusions, hosts, pronoun, raw_targets
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolWords
from pipeline.nlu.values import values


def recognise(tokens: list[Token], index: InventoryIndex, words: ToolWords) -> Parse:
    """Read one clause: what it targets and which typed values it holds."""
    claims = Claims()
    _catalog_nouns(tokens, index, words, claims)
    _catalog_names(tokens, words, claims)
    phrases = claims.indexes()
    paced, pace_tokens = _paced_counts(tokens, words)
    claims.take(*(t for t in tokens if t.index in pace_tokens))  # never hosts: 'one by one'
    split = exclusion_start(tokens, index)
    main, excluded = tokens[:split], tokens[split:]
    data = next((i for i, t in enumerate(main) if is_data_colon(t, main[:i], words.data_words)), None)
    main = main if data is None else main[:data]  # hosts are never read from a script's text
    targets = Targets()
    before = claims.copy()
    hosts(main, index, targets, claims)
    named = [t for t in main if t in claims and t not in before]
    targets.name_tokens = tuple(t.index for t in named)
    # "the database db-stg-01": describes, never selects
    mark_descriptions(main, named, index, claims, words.vocabulary)
    targets.selector.named = bool(targets.names)
    read_selector(main, index, targets.selector, claims)
    raw_targets(main, targets, claims)
    if excluded:
        targets.exclude = exclusions(excluded, index, claims)
    targets.pronoun = pronoun(main)
    found = values(tokens, index, claims, targets, words) + paced
    return Parse(tuple(tokens), targets, found, claims.indexes() - pace_tokens, phrases)


_ONE = frozenset({"a", "an", "one", "single"})


def _paced_counts(tokens: list[Token], words: ToolWords) -> tuple[tuple[Value, ...], set[int]]:
    """'one at a time', 'a host at a time', 'two nodes at once', 'one by one': a count before a
    number slot's follow words (declared: `ToolWords.paces`) is that number, and neither 'the
    frankfurt one' nor a selection of hosts; a host noun between them only says what is counted.
    Returns the counts and every token of their phrases."""
    found: list[Value] = []
    phrases: set[int] = set()
    for i, token in enumerate(tokens):
        count = _count(token)
        if not count or token.index in phrases:
            continue
        noun = i + 1 < len(tokens) and tokens[i + 1].low in HOST_NOUNS and tokens[i + 1].low not in _ONE
        after = tokens[i + 1 + noun :]
        pace = next((p for p in words.paces if _starts(after, p)), None)
        if pace is None or not (noun or token.low in _ONE):
            continue
        span = tokens[i : i + 1 + noun]
        text = " ".join(t.text for t in span)
        found.append(Value(frozenset({"number"}), count, tuple(t.index for t in span), text))
        phrases.update(t.index for t in tokens[i : i + 1 + noun + len(pace)])
    return tuple(found), phrases


def _count(token: Token) -> int:
    if token.kind != "word":
        return 0
    if token.low in _ONE:
        return 1
    return CARDINALS.get(token.low) or (int(token.low) if token.low.isdigit() and len(token.low) < 4 else 0)


def _starts(tokens: list[Token], words: tuple[str, ...]) -> bool:
    written = [stem(t.low) for t in tokens[: len(words)] if t.kind == "word"]
    return tuple(written) == words


def _catalog_nouns(tokens: list[Token], index: InventoryIndex, words: ToolWords, claims: Claims) -> None:
    """'the name servers for example.org': a tool's phrase holding a host noun is that phrase, not
    hosts, when the word before the noun names nothing in the inventory and a DNS name is written."""
    if not any(t.kind == "word" and is_fqdn(t.low) for t in tokens):
        return
    lows = [t for t in tokens if t.kind == "word"]
    for i, token in enumerate(lows):
        for words_, tool, *_ in words.starts.get(stem(token.low), []):
            span = lows[i : i + len(words_)]
            if len(span) != len(words_) or tuple(stem(t.low) for t in span) != words_:
                continue
            # a tool whose hosts are only those after its cue words ('ask ns1') takes none from it
            addressed = not tool.takes_targets or bool(tool.spec.phrasing.targets_after)
            hostless = addressed or not _inventory_word(span[0].low, index)
            if any(t.low in HOST_NOUNS for t in span) and hostless:
                claims.take(*span)


def _catalog_names(tokens: list[Token], words: ToolWords, claims: Claims) -> None:
    """'the windows service restart pack', 'the linux disk cleanup': a tool's name written out (see
    `ToolWords`, role "name") names the tool; its words select no hosts ('windows' is no OS here)."""
    lows = [t for t in tokens if t.kind == "word"]
    for i, token in enumerate(lows):
        for words_, _tool, role, *_ in words.starts.get(stem(token.low), []):
            span = lows[i : i + len(words_)]
            together = span and span[-1].index - span[0].index == len(span) - 1
            if role == "name" and together and tuple(stem(t.low) for t in span) == words_:
                claims.take(*span)


def _inventory_word(low: str, index: InventoryIndex) -> bool:
    return (
        low in index.environments
        or low in index.locations
        or low in index.tag_values
        or low in index.services
        or index.type_for_words((low,)) is not None
    )
