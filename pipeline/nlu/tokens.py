"""Tokens: the written message cut into immutable pieces, quoted text kept whole as data.

Quoting follows the usual shell-like rules, so that an approver sees exactly what will run:

    ```lang\\n ... ```   a fenced block (its language hint kept)
    `...`              a code span
    "..."  “...”       double quotes; \\" \\“ \\” and \\\\ inside stand for " “ ” and \\
    '...'              single quotes, taken literally (an apostrophe inside a word is no quote)

Everything outside quotes is scanned into words, addresses, paths, flags and the like.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.nlu.lexicon import ABBREVIATIONS

_SCANNER = re.compile(
    r"""
    (?P<url>\bhttps?://[^\s<>"'`]+)
    |(?P<email>(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+)
    |(?P<channel>(?<![\w&])\#[\w][\w.-]*)
    |(?P<kv>(?<![\w-])[A-Za-z_][\w.-]*=(?:[^\s,;"'`]+(?:,[^\s,;"'`]+)*)?)
    |(?P<path>(?<![\w./])(?:[A-Za-z]:\\[^\s,;]*|~?/[\w.@%+~*-][^\s,;]*))
    |(?P<phone>(?<![\w+])\+\d[\d\s().-]{6,18}\d)
    |(?P<glob>(?<![\w*.-])[A-Za-z0-9][\w.-]*\*[\w.*-]*)
    |(?P<slashlist>(?<![\w/-])[A-Za-z][\w-]*?\d+(?:/\d+)+(?![\w/]))
    |(?P<bracket>(?<![\w-])[A-Za-z][\w-]*+\[\d+-\d+\][\w-]*)
    |(?P<ip>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w]|\.\d))
    |(?P<flag>(?<!\S)--?[A-Za-z][\w-]*(?:=[^\s,;]+)?)
    |(?P<ip6>(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]))
    |(?P<time>\b\d{1,2}:\d{2}(?::\d{2})?\b)
    |(?P<word>[\w](?:[\w.'+-]*[\w])?)
    |(?P<arrow>-+>|=>|\u2192|\u27f6)
    |(?P<punct>[,;?!.:&|>]|(?<!\S)-(?!\S))
    |(?P<emoji>[\u2600-\u27bf\U0001f300-\U0001faff]+)
    |(?P<dash>[\u2013\u2014])
    |(?P<times>\u00d7)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One piece of the message: as written, normalised (`low`), its kind and place."""

    text: str
    kind: str  # word quote url email channel kv path phone glob ip flag time punct
    low: str
    index: int = 0  # position in the message's tokens
    start: int = 0  # offsets in the scanned text
    end: int = 0
    quoting: str = ""  # quote tokens: fence, code, double, single
    hint: str = ""  # a fenced block's language hint ("powershell"); "arrow" for a written -> (reads 'to')
    after_article: bool = False  # preceded by "the", "our", "every" ...


@dataclass(frozen=True)
class Piece:
    """A stretch of the text: quoted (with its unquoted content) or plain."""

    start: int
    end: int
    quoting: str = ""
    content: str = ""
    hint: str = ""


def pieces(text: str) -> list[Piece]:
    """The text as plain and quoted stretches, by the shell-like rules above."""
    found: list[Piece] = []
    plain, i = 0, 0
    while i < len(text):
        quoted = _quote_at(text, i)
        if quoted is None:
            i += 2 if text[i] == "\\" else 1
            continue
        if plain < i:
            found.append(Piece(plain, i))
        found.append(quoted)
        plain = i = quoted.end
    if plain < len(text):
        found.append(Piece(plain, len(text)))
    return found


def _quote_at(text: str, i: int) -> Piece | None:
    char = text[i]
    if text.startswith("```", i):
        close = text.find("```", i + 3)
        if close < 0:
            return None
        body = text[i + 3 : close]
        hint = re.match(r"([A-Za-z0-9_+-]+)[ \t]*\n", body)
        if hint:
            body = body[hint.end() :]
        return Piece(i, close + 3, "fence", body.strip("\n").strip(), hint.group(1).lower() if hint else "")
    if char == "`":
        close = text.find("`", i + 1)
        return Piece(i, close + 1, "code", text[i + 1 : close].strip()) if close > i + 1 else None
    if char in '"\u201c':
        return _double(text, i)
    if char == "'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
        close = text.find("'", i + 1)
        while close > 0 and close + 1 < len(text) and (text[close + 1].isalnum() or text[close + 1] == "_"):
            close = text.find("'", close + 1)  # "'it's broken'": the inner apostrophe is not the end
        if close > i + 1 and "\n" not in text[i:close]:
            return Piece(i, close + 1, "single", text[i + 1 : close].strip())
    return None


def _double(text: str, i: int) -> Piece | None:
    closing = "\u201d" if text[i] == "\u201c" else '"'
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == "\\" and j + 1 < len(text) and text[j + 1] in '"\\\u201c\u201d':
            out.append(text[j + 1])
            j += 2
            continue
        if char == closing or (closing == '"' and char == "\u201d"):
            content = "".join(out).strip()
            return Piece(i, j + 1, "double", content) if content else None
        out.append(char)
        j += 1
    return None


def unquoted(text: str) -> Iterator[tuple[int, int]]:
    """Offsets of the plain (unquoted) stretches of the text."""
    for piece in pieces(text):
        if not piece.quoting:
            yield piece.start, piece.end


def tokenize(text: str) -> tuple[Token, ...]:
    """Tokens of the whole text: quoted stretches as one `quote` token each."""
    raw: list[Token] = []
    for piece in pieces(text):
        if piece.quoting:
            raw.append(_token(piece.content, "quote", piece.start, piece.end, piece.quoting, piece.hint))
            continue
        for match in _SCANNER.finditer(text, piece.start, piece.end):
            raw.extend(_scanned(match))
    merged = _quoted_values(raw, text)
    return tuple(_placed(merged))


def _scanned(match: re.Match[str]) -> list[Token]:
    kind = match.lastgroup or "word"
    value, start, end = match.group(0), match.start(), match.end()
    if kind == "slashlist":  # win-app-01/02 -> win-app-01, win-app-02
        return _slash_list(value, start, end)
    if kind in {"path", "url"}:
        value = value.rstrip(".,;:?!)'\"")
    elif kind == "kv":
        value = value.rstrip(".?!")
    elif kind == "ip6":
        kind = "ip" if _is_ipv6(value) else "time"
    elif kind == "phone":
        value = re.sub(r"[\s().-]", "", value)
    elif kind == "bracket":  # web-[01-03] -> web-01..03
        value, kind = re.sub(r"\[(\d+)-(\d+)\]", r"\1..\2", value), "word"
    elif kind == "emoji":  # 'prod is on fire 🔥 restart gunicorn': a pictograph ends a sentence
        value, kind = ".", "punct"
    elif kind == "dash":  # "don't stop it — show me its memory": a dash sets clauses apart
        value, kind = ",", "punct"
    elif kind == "arrow":  # 'iperf api-02 -> db-02': an arrow reads 'to' (a direction, never a range)
        return [Token(value, "word", "to", 0, start, end, "", "arrow")]
    elif kind == "times":  # 'ping web-01 \u00d75': the multiplication sign is the letter people type
        value, kind = "x", "word"
    return [_token(value, kind, start, end)]


def _quoted_values(tokens: list[Token], text: str) -> list[Token]:
    """`message="hello world"`: a key= written right before quoted text takes it as its value."""
    merged: list[Token] = []
    for token in tokens:
        last = merged[-1] if merged else None
        valued = last is not None and last.kind == "kv" and last.text.endswith("=") and token.kind == "quote"
        if last is not None and valued and token.start == last.end:
            merged[-1] = _token(last.text + token.text, "kv", last.start, token.end, token.quoting)
            continue
        merged.append(token)
    return merged


def _token(text: str, kind: str, start: int, end: int, quoting: str = "", hint: str = "") -> Token:
    low = text.lower()
    if kind == "word":
        low = re.sub(r"'s$", "", low)
        low = ABBREVIATIONS.get(low, low)
    return Token(text, kind, low, 0, start, end, quoting, hint)


_DETERMINERS = frozenset({"the", "our", "that", "this", "your", "every", "each", "any"})


def _placed(tokens: list[Token]) -> Iterator[Token]:
    previous = ""
    for index, token in enumerate(tokens):
        yield Token(
            token.text,
            token.kind,
            token.low,
            index,
            token.start,
            token.end,
            token.quoting,
            token.hint,
            previous in _DETERMINERS,
        )
        previous = token.low


def relabel(token: Token, low: str) -> Token:
    """The same token read as another word (a corrected typo)."""
    return Token(
        token.text,
        token.kind,
        low,
        token.index,
        token.start,
        token.end,
        token.quoting,
        token.hint,
        token.after_article,
    )


def _is_ipv6(value: str) -> bool:
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _slash_list(value: str, start: int, end: int) -> list[Token]:
    head, *rest = value.split("/")
    prefix = re.sub(r"\d+$", "", head)
    width = len(head) - len(prefix)
    names = [head] + [f"{prefix}{int(n):0{width}d}" for n in rest]
    tokens: list[Token] = []
    for name in names:
        if tokens:
            tokens.append(_token(",", "punct", start, end))
        tokens.append(_token(name, "word", start, end))
    return tokens
