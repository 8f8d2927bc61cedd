"""Numbers past a tool's declared bounds ('bandwidth for 90s' where a test runs at most 60 s).

The value written is never dropped for a default nor changed silently: the request is asked back
with the limit, and the same request at the limit is offered as a suggestion (one click sends it).
"""

from __future__ import annotations

from pipeline.contracts import ToolCall
from pipeline.nlu import messages
from pipeline.nlu.targeting import Clarify
from pipeline.nlu.toolwords import ToolView

_UNITS = {"duration": " s"}


def check_bounds(tool: ToolView, call: ToolCall) -> None:
    """Raise `Clarify` (with the request at the limit) when an argument is past its bound."""
    for slot in tool.slots:
        value = call.args.get(slot.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        bound = _crossed(float(value), slot.at_least, slot.at_most)
        if bound is None:
            continue
        limit: float | int = int(bound) if bound.is_integer() else bound
        at_bound = call.model_copy(update={"args": {**call.args, slot.name: limit}})
        shown = messages.structured(at_bound)
        unit = _UNITS.get(slot.kind, "")
        raise Clarify(messages.beyond_bound(tool.name, slot.name, float(value), bound, unit, shown), (shown,))


def _crossed(value: float, low: float | None, high: float | None) -> float | None:
    if high is not None and value > high:
        return high
    if low is not None and value < low:
        return low
    return None
