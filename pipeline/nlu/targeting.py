"""The targets of one call: named hosts and a selector, checked against the inventory.

'the london db server'       must name one asset: several candidates are asked back
'both london app servers'    must be two: narrowed by the service, or asked back
'restart iis on all servers' a change of a service: only where the service runs
'restart it'                 the hosts an earlier clause or message named
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from pipeline.contracts import AssetFilter, AssetRef, ToolCall
from pipeline.conversation import Turn
from pipeline.nlu import messages
from pipeline.nlu.acts import Act
from pipeline.nlu.english import CARDINALS
from pipeline.nlu.fit import addressed, causee
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.parse import Parse, Targets
from pipeline.nlu.toolwords import ToolView


class Clarify(Exception):
    """Ask the user back; the message says what is unclear. `suggestions`: requests the person can
    send as they are (buttons, numbered choices)."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class NoTargets(Clarify):
    """Nothing names the hosts and nothing earlier refers to any; the caller shows its reading."""


@dataclass
class Context:
    """What earlier clauses (and earlier messages of the conversation) resolved to."""

    targets: tuple[str, ...] = ()
    selector: AssetFilter | None = None
    service: str = ""
    summaries: list[str] = field(default_factory=list)
    calls: tuple[ToolCall, ...] = ()  # the conversation's last request, targets resolved to names
    frame: Act | None = (
        None  # the act of the words around a quoted bot command ('should I /opsconductor ...')
    )

    @classmethod
    def after(cls, previous: Turn | None) -> Context:
        """The context a conversation's last request leaves: its hosts, its service, its steps."""
        if previous is None or not previous.calls:
            return cls()
        names = tuple(dict.fromkeys(n for c in previous.calls for n in c.targets))
        service = next((str(c.args["service"]) for c in previous.calls if c.args.get("service")), "")
        return cls(targets=names, service=service, calls=previous.calls)

    def remember(self, targets: Targets, service: str = "") -> None:
        """What a clause that plans nothing itself named ('our monitoring box seems slow, ...')."""
        if targets.names and not targets.unknown:
            self.targets, self.selector = tuple(targets.names), None
        elif not targets.names and not targets.unknown and targets.selector.anchored:
            self.targets, self.selector = (), _selector(targets, "")
        if service:
            self.service = service


def targets_for(
    tool: ToolView, parse: Parse, context: Context, service: str, index: InventoryIndex, runs: str = ""
) -> tuple[tuple[str, ...], AssetFilter | None]:
    """(names, selector) for a call of `tool`, or Clarify. `runs`: a service the call is about that
    only the hosts running it can answer for (a package's version): a selection narrows to them."""
    found = parse.targets
    if not tool.takes_targets:
        return (), None
    if tool.spec.phrasing.targets_after:  # 'ask ns1 for the MX of example.com': ns1 only
        asked = _asked(tool, parse, index)
        if asked is not None:
            return asked
    if "field" in tool.kinds() and found.names:
        return tuple(found.names), None  # the selector words are the new values
    problems(found)
    names = [n for n in found.names if n not in found.exclude] + found.raw
    selector = _selector(found, service)
    if names and found.selector.single and _asks_about(parse):
        selector = None  # "is db-02 a production server?": a question about db-02 only
    if selector is not None and found.selector.single:
        _one_asset(selector, index)  # "web-01 and the london one": which one, if several
    count = _counted(parse)
    if selector is not None and not names and count:
        selector = _exactly(count, selector, service, index)
    if selector is not None and not names:
        names, selector = _narrowed(tool, selector, runs or (service if tool.changes else ""), index)
    if not names and selector is None:
        if context.targets or context.selector is not None:
            return context.targets, context.selector
        if tool.untargeted == "all":
            return (), AssetFilter()
        raise NoTargets(tool.name)
    context.targets, context.selector = tuple(names), selector
    return tuple(names), selector


def _asked(
    tool: ToolView, parse: Parse, index: InventoryIndex
) -> tuple[tuple[str, ...], AssetFilter | None] | None:
    """The hosts a tool asks ('ask ns1', 'have web-01 resolve X') or the selection made to do it
    ('get the dc to look up X'); None when the tool's other rules decide."""
    found = parse.targets
    asked = tuple(n for n in found.names if n in addressed(tool, parse, index))
    selector = _selector(found, "") if not asked and causee(tool, parse) is not None else None
    if selector is not None:
        if found.selector.single:
            _one_asset(selector, index)
        return (), selector
    return (asked, None) if asked or tool.untargeted == "none" else None


def problems(found: Targets) -> None:
    if found.unknown:
        raise Clarify(messages.unknown_targets(found.unknown))
    if found.ambiguous:
        raise Clarify(messages.ambiguous(found.ambiguous))


def _asks_about(parse: Parse) -> bool:
    from pipeline.nlu.lexicon import FILLER

    first = next((t.low for t in parse.tokens if t.kind == "word" and t.low not in FILLER), "")
    return first in {"is", "are", "was", "isn't", "aren't"}


def _selector(found: Targets, service: str) -> AssetFilter | None:
    """The clause's selector; bare adjectives next to named hosts ('web-01 in production') only qualify."""
    sel = found.selector
    if not sel.is_set() or (found.names and not sel.anchored):
        return None
    attributes = sel.attributes()
    services = tuple(sel.services)
    if service and sel.everything and (not attributes or sel.where_running):
        services = (service,)  # "restart nginx everywhere", "on every server that runs it"
    return AssetFilter(
        names=tuple(sel.names),
        types=tuple(sel.types),
        os=tuple(sel.os),
        environments=tuple(sel.environments),
        locations=tuple(sel.locations),
        tags=dict(sel.tags),
        services=services,
        exclude=tuple(found.exclude),
    )


def _one_asset(selector: AssetFilter, index: InventoryIndex) -> None:
    """'the london db server' must name one asset; several candidates are asked back."""
    found = matching(selector, index)
    if len(found) > 1:
        raise Clarify(messages.which_one([a.name for a in found]))


def _counted(parse: Parse) -> int:
    """'both core switches', 'all three app servers', 'the 2 london dbs': how many hosts the selection
    says it holds (a count word right before the selection's own words), or 0."""
    words = [t for t in parse.tokens if t.kind == "word"]
    for token, nxt in itertools.pairwise(words):
        count = 2 if token.low == "both" else CARDINALS.get(token.low, 0)
        if token.low.isdigit() and 1 < int(token.low) < 100:
            count = int(token.low)
        if count > 1 and (nxt.index in parse.claimed or (token.low == "both" and nxt.low == "of")):
            return count
    return 0


def _exactly(count: int, selector: AssetFilter, service: str, index: InventoryIndex) -> AssetFilter:
    """'both london app servers' must be two: narrow by the service, or ask which."""
    found = matching(selector, index)
    if len(found) == count:
        return selector
    running = [a for a in found if service.lower() in {s.lower() for s in a.services}]
    if service and len(running) == count:
        return selector.model_copy(update={"services": (service,)})
    raise Clarify(messages.which_one([a.name for a in found], count))


def _running(
    selector: AssetFilter, service: str, index: InventoryIndex
) -> tuple[list[str], AssetFilter | None]:
    """'restart iis on all windows servers': only the selected assets that run it.

    For changes only: a status check on every selected asset still answers something.
    Assets whose inventory entry lists no services at all are kept (nothing is known about
    them); when the inventory says none of the selected assets runs the service, ask back.
    """
    if selector.services:
        return [], selector
    found = matching(selector, index)
    wanted = service.lower()
    running = [a for a in found if wanted in {s.lower() for s in a.services}]
    unlisted = [a for a in found if not a.services]
    if len(running) + len(unlisted) == len(found):
        return [], selector  # nothing to narrow
    if not running:
        raise Clarify(messages.not_running(service, [a.name for a in found]))
    if unlisted and running:
        return [a.name for a in running], None
    return [], selector.model_copy(update={"services": (service,)})


def _narrowed(
    tool: ToolView, selector: AssetFilter, runs: str, index: InventoryIndex
) -> tuple[list[str], AssetFilter | None]:
    """A selection narrowed to the assets running what the call is about, then to those of the
    systems the tool runs on."""
    names: list[str] = []
    if runs:
        names, narrowed = _running(selector, runs, index)
        if narrowed is None:
            return names, None
        selector = narrowed
    return _runnable(tool, selector, index) if tool.spec.platforms else (names, selector)


def _runnable(
    tool: ToolView, selector: AssetFilter, index: InventoryIndex
) -> tuple[list[str], AssetFilter | None]:
    """'openssl version across prod': a tool declared for some systems runs on the selected assets
    of those systems only (a Linux package query skips the Windows hosts); none of them is asked."""
    found = matching(selector, index)
    runnable = [a.name for a in found if tool.spec.runs_on(a.os)]
    if len(runnable) == len(found):
        return [], selector
    if not runnable:
        raise Clarify(messages.no_system_for(tool.name, sorted(tool.spec.platforms), [a.name for a in found]))
    return runnable, None


def matching(selector: AssetFilter, index: InventoryIndex) -> list[AssetRef]:
    """The assets `selector` picks, by the one selection rule (exclusions included)."""
    return index.selection.select(selector)
