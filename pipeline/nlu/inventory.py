"""An index over the inventory snapshot: tolerant name lookup and selector vocabularies.

Every vocabulary (environments, locations, types, tags, services) comes from the
snapshot; `pipeline.nlu.lexicon` only adds how people abbreviate them.
"""

from __future__ import annotations

import bisect
import fnmatch
import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.contracts import AssetFilter, AssetRef
from pipeline.nlu.lexicon import ENVIRONMENT_SYNONYMS, OS_SYNONYMS, TYPE_SYNONYMS
from pipeline.selection import AssetIndex, is_server_type

_SIGNATURE = re.compile(r"[a-z]+|\d+")


def normalise(name: str) -> str:
    """'WEB-01', 'web_01', 'web 01' and 'web01' all become 'web01'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def signature(name: str) -> tuple[str, tuple[int, ...]]:
    """Letters and numbers of a name: ('web', (1,)) for web-01 and web1."""
    parts = _SIGNATURE.findall(name.lower())
    letters = "".join(p for p in parts if not p.isdigit())
    numbers = tuple(int(p) for p in parts if p.isdigit())
    return letters, numbers


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count once), capped at limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


_NOT_HOSTS = frozenset(
    [
        "utf-8",
        "sha-256",
        "sha-1",
        "x86_64",
        "ipv4",
        "ipv6",
        "w3svc",
        "http2",
        "e2e",
        "k8s",
        "mp3",
        "mp4",
        "h264",
    ]
)


def within_one(a: str, b: str) -> bool:
    """Fast check for Damerau-Levenshtein distance <= 1."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i:] == b[i + 1 :]  # one insertion


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_FQDN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
_FILE_SUFFIXES = frozenset(
    [
        "log",
        "txt",
        "conf",
        "cfg",
        "yaml",
        "yml",
        "json",
        "py",
        "sh",
        "ps1",
        "ini",
        "xml",
        "csv",
        "gz",
        "tar",
        "zip",
        "pid",
        "sock",
    ]
)


def is_fqdn(text: str) -> bool:
    low = text.lower().rstrip(".")
    return bool(_FQDN.match(low)) and low.rsplit(".", 1)[-1] not in _FILE_SUFFIXES


_YES = frozenset({"yes", "true", "y", "1", "on", "enabled"})


@dataclass(frozen=True)
class NameMatch:
    """Result of looking up a written host name."""

    names: tuple[str, ...] = ()  # one name = found; several = ambiguous; none = unknown
    exact: bool = True


@dataclass
class InventoryIndex:
    """Lookups over one snapshot, built once per snapshot: no lookup scans the whole inventory."""

    assets: Sequence[AssetRef]
    by_name: dict[str, AssetRef] = field(default_factory=dict)
    by_normalised: dict[str, str] = field(default_factory=dict)
    by_address: dict[str, str] = field(default_factory=dict)
    by_signature: dict[tuple[str, tuple[int, ...]], list[str]] = field(default_factory=dict)
    environments: dict[str, str] = field(default_factory=dict)  # written form -> inventory value
    locations: dict[str, str] = field(default_factory=dict)
    os: dict[str, str] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    tag_values: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # value -> [(key, value)]
    tag_keys: set[str] = field(default_factory=set)
    services: dict[str, str] = field(default_factory=dict)  # lower -> as in inventory
    name_prefixes: set[str] = field(default_factory=set)
    name_segments: dict[str, list[str]] = field(default_factory=dict)  # 'erp' -> ams-erp-app1, ams-erp-sql1
    by_numbers: dict[tuple[int, ...], dict[str, list[str]]] = field(default_factory=dict)  # for typos
    digitless: list[str] = field(default_factory=list)  # names without a digit ('bastion')
    machines: set[str] = field(default_factory=set)  # types of anything but network gear
    sorted_names: list[str] = field(default_factory=list)  # for glob prefixes
    memo: dict[str, str | None] = field(default_factory=dict)  # per-snapshot results of costly lookups
    selection: AssetIndex = field(default_factory=lambda: AssetIndex(()))

    @classmethod
    def build(cls, assets: Sequence[AssetRef]) -> InventoryIndex:
        index = cls(assets, selection=AssetIndex.of(assets))
        for asset in assets:
            index._add(asset)
        index._add_synonyms()
        index.sorted_names = sorted(index.by_name)
        return index

    def _add(self, asset: AssetRef) -> None:
        name = asset.name.lower()
        self.by_name[name] = asset
        self.by_normalised.setdefault(normalise(name), asset.name)
        self.by_address[asset.address.lower()] = asset.name
        letters, numbers = signature(name)
        self.by_signature.setdefault((letters, numbers), []).append(asset.name)
        self.by_numbers.setdefault(numbers, {}).setdefault(letters, []).append(asset.name)
        self.name_prefixes.add(letters)
        if not numbers:
            self.digitless.append(name)
        if asset.os.lower() != "network":
            self.machines.add(asset.type)
        first = re.split(r"[-_.\d]", name, maxsplit=1)[0]
        if first:
            self.name_prefixes.add(first)
        for segment in dict.fromkeys(re.findall(r"[a-z]{2,}", name)):
            self.name_segments.setdefault(segment, []).append(asset.name)
        if asset.environment:
            self.environments[asset.environment.lower()] = asset.environment
        if asset.location:
            self.locations[asset.location.lower()] = asset.location
            spaced = re.sub(r"[-_]+", " ", asset.location.lower())  # 'sao-paulo' is written 'sao paulo'
            self.locations.setdefault(spaced, asset.location)
        if asset.os:
            self.os[asset.os.lower()] = asset.os
        self.types.add(asset.type)
        for key, value in asset.tags.items():
            self.tag_keys.add(key.lower())
            pairs = self.tag_values.setdefault(value.lower(), [])
            if (key, value) not in pairs:
                pairs.append((key, value))
        for service in asset.services:
            self.services[service.lower()] = service

    def _add_synonyms(self) -> None:
        for groups, target in ((ENVIRONMENT_SYNONYMS, self.environments), (OS_SYNONYMS, self.os)):
            for value in list(target.values()):
                for words in groups.values():
                    if value.lower() in words:
                        for word in words:
                            target.setdefault(word, value)

    # ------------------------------------------------------------------ names

    def lookup(self, written: str) -> NameMatch:
        """Find an asset by a written name: exact, normalised, zero-padding, then small typos."""
        low = written.lower().strip(".")
        if low in self.by_name:
            return NameMatch((self.by_name[low].name,))
        if low in self.by_address:
            return NameMatch((self.by_address[low],))
        found = self.by_normalised.get(normalise(low))
        if found:
            return NameMatch((found,))
        same = self.by_signature.get(signature(low), [])
        if len(same) >= 1:
            return NameMatch(tuple(same), exact=len(same) == 1)
        return self._fuzzy(low)

    def _fuzzy(self, low: str) -> NameMatch:
        letters, numbers = signature(low)
        if len(letters) < 3:
            return NameMatch(())
        limit = 1 if len(letters) < 7 else 2
        best: list[str] = []
        best_distance = limit + 1
        for other_letters, names in self.by_numbers.get(numbers, {}).items():
            distance = edit_distance(letters, other_letters, limit)
            substituted = len(letters) == len(other_letters) and sorted(letters) != sorted(other_letters)
            if distance and len(letters) < 5 and substituted:
                continue  # 'app' is not a typo of 'api': short names allow no substitution
            if distance < best_distance:
                best, best_distance = list(names), distance
            elif distance == best_distance:
                best.extend(names)
        return NameMatch(tuple(best), exact=False) if best_distance <= limit else NameMatch(())

    def tag_compound(self, word: str) -> tuple[str, str] | None:
        """'platform-team', 'team-platform': a tag's value and key written as one word."""
        parts = word.lower().split("-")
        if len(parts) != 2 or word.lower() in self.by_name:
            return None
        for value, key in (parts, parts[::-1]):
            found = next(((k, v) for k, v in self.tag_values.get(value, []) if k.lower() == key), None)
            if found is not None:
                return found
        return None

    def flag_tag(self, word: str) -> tuple[str, str] | None:
        """'the pci hosts', 'PCI-scoped hosts': a tag key whose one value is a yes (pci: "true")."""
        low = word.lower()
        head, _, rest = low.partition("-")
        key = low if low in self.tag_keys else head if rest.endswith("ed") and head in self.tag_keys else None
        if key is None or low in self.by_name:
            return None
        pairs = {(k, v) for found in self.tag_values.values() for k, v in found if k.lower() == key}
        yes = [(k, v) for k, v in pairs if v.lower() in _YES]
        return yes[0] if len(yes) == 1 else None

    def looks_like_host(self, word: str) -> bool:
        """A word shaped like an inventory name (letters and digits, e.g. web-09, app-eu-7, srv12)."""
        low = word.lower()
        if not re.fullmatch(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*", low) or not re.search(r"\d", low):
            return False
        if low in self.services or low in _NOT_HOSTS:
            return False
        if not low[-1].isdigit():
            return "-" in low and signature(low)[0] in self.name_prefixes
        if re.fullmatch(r"[a-z]+\d+", low) and signature(low)[0] not in self.name_prefixes:
            return "-" in low or "_" in low
        return True

    def glob(self, pattern: str) -> list[str]:
        """Inventory names matching a shell pattern ('web-*'), from the names sharing its literal prefix."""
        prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        start = bisect.bisect_left(self.sorted_names, prefix)
        found = []
        for low in itertools.islice(self.sorted_names, start, None):
            if not low.startswith(prefix):
                break
            if fnmatch.fnmatchcase(low, pattern):
                found.append(self.by_name[low].name)
        return found

    # ------------------------------------------------------------------ selectors

    def machine_types(self) -> tuple[str, ...]:
        """Types of computers (anything but network gear): what 'machines' and 'boxes' mean."""
        return tuple(sorted(self.machines or self.types))

    def server_types(self) -> tuple[str, ...]:
        found = [t for t in self.types if is_server_type(t)]
        return tuple(sorted(found or self.types))

    def type_for_words(self, words: Iterable[str], noun: str = "") -> str | None:
        """Map words like ('web',) / ('domain', 'controllers') / ('dbs',) to an inventory type.

        `noun` is the host noun that followed ('jump' + 'hosts' -> jump_host).
        """
        words = tuple(w.lower() for w in words)
        joined = "_".join(_singular(w) for w in words)
        with_noun = f"{joined}_{_singular(noun.lower())}" if noun else joined
        for candidate in (joined, joined + "_server", with_noun):
            if candidate in self.types:
                return candidate
        if len(words) == 1:
            for candidate in TYPE_SYNONYMS.get(words[0], ()):
                if candidate in self.types:
                    return candidate
        return None

    def select(
        self,
        *,
        names: Iterable[str] = (),
        types: Iterable[str] = (),
        os: Iterable[str] = (),
        environments: Iterable[str] = (),
        locations: Iterable[str] = (),
        tags: dict[str, str] | None = None,
        services: Iterable[str] = (),
    ) -> list[AssetRef]:
        """The assets these criteria pick, by the one selection rule (`pipeline.selection`)."""
        selector = AssetFilter(
            names=tuple(names),
            types=tuple(types),
            os=tuple(os),
            environments=tuple(environments),
            locations=tuple(locations),
            tags=dict(tags or {}),
            services=tuple(services),
        )
        return self.selection.select(selector)


def _singular(word: str) -> str:
    if word.endswith("ches") or word.endswith("shes") or word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word
