"""What the deterministic understanding says back: help, questions, out-of-scope answers."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.contracts import ToolCall

HELP_HEAD = (
    "I run operations requests against the hosts in the inventory. Ask in plain words or use the short forms:"
)
HELP_TARGETS = "Targets can be names, addresses, ranges{span} or selectors{selectors}."
HELP_RISK = "Reading things runs at once; changes need an approver; critical actions need a second person."
HELP_EMPTY = (
    "The inventory is empty, so the examples say <host>: import your hosts with "
    "`opsconductor assets import inventory.yaml` (YAML or CSV; README, Connect your machines), "
    "or write addresses such as `ping 192.0.2.10`."
)
ABOUT = (
    "I run operations tasks on the hosts in the inventory: ping, port scans, traceroute, DNS, "
    "system facts, service status and control, processes, log files, commands (with approval), "
    "notifications and inventory questions. Type `help` for examples on your hosts."
)


def help_text(
    requests: Sequence[tuple[str, str]],
    defined: Sequence[tuple[str, str]] = (),
    *,
    span: str = "",
    selectors: Sequence[str] = (),
    empty: bool = False,
) -> str:
    """The help: `requests` (request, what it shows) drawn from the live inventory, `defined`
    (tool, request) for the catalog's defined tools and runbooks; `empty`: say how to import hosts."""
    rows = [*requests, *((request, tool) for tool, request in defined)]
    width = min(max((len(r) for r, _ in rows), default=0), 46)
    lines = [f"  {r}{' ' * max(width - len(r), 0)}  {what}".rstrip() for r, what in rows]
    targets = HELP_TARGETS.format(
        span=f" ({span})" if span else "", selectors=f" ({', '.join(selectors)})" if selectors else ""
    )
    tail = [HELP_EMPTY] if empty else []
    return "\n".join([HELP_HEAD, "", *lines, "", targets, HELP_RISK, *tail])


def out_of_scope() -> str:
    return "That is outside what I can do. " + ABOUT


def injection() -> str:
    return (
        "I ignore instructions that try to change my rules; approvals and permissions always apply. " + ABOUT
    )


def unknown_targets(names: list[str]) -> str:
    listed = ", ".join(names)
    return (
        f"I could not find {listed} in the inventory. Check the name, or send `list all assets` to see them."
    )


def ambiguous(candidates: dict[str, tuple[str, ...]]) -> str:
    parts = [f"'{written}' could be {' or '.join(names)}" for written, names in candidates.items()]
    return "Which host do you mean? " + "; ".join(parts) + "."


def which_targets(reading: str) -> str:
    """No hosts named or referred to: the reading with a `<host>` placeholder, to send back filled in."""
    return f"Which hosts? I read this as `{reading}`: send it with the hosts in place of <host>."


def not_running(service: str, hosts: list[str]) -> str:
    return f"The inventory lists no {service} on {', '.join(hosts[:6])}. Which hosts do you mean?"


def runs_elsewhere(tool: str, systems: list[str]) -> str:
    return f"{tool} runs on {' and '.join(systems)} hosts only. Which of those do you mean?"


def no_system_for(tool: str, systems: list[str], hosts: list[str]) -> str:
    named = ", ".join(hosts[:6])
    return (
        f"{tool} runs on {' and '.join(systems)} hosts only, and {named} are none. Which hosts do you mean?"
    )


_ASKED = {
    "service": "Which service?",
    "path": "Which file? Give its full path.",
    "command": "Which command? Write it in quotes.",
    "code": "Paste the script in a fenced block or backticks.",
    "recipient": "Who should I notify? Give an e-mail address, a #channel or a phone number.",
    "dns_name": "Which name should I look up?",
    "new_name": "What is the new asset called?",
}
EXAMPLE_VALUES = {  # what a missing argument's example shows, by kind (a choice: its first value)
    "service": "nginx",
    "path": "/var/log/syslog",
    "command": "df -h",
    "code": "uptime",
    "dns_name": "example.org",
    "recipient": "oncall@example.com",
    "new_name": "web-05",
    "field": "192.0.2.15",
    "message": "maintenance starts at 22:00",
}


def missing_argument(slot: str, kind: str, example: str = "", choices: tuple[str, ...] = ()) -> str:
    """The question for a required argument nothing was written for, and the whole request with
    it filled in (`structured`, sent back it plans; `<host>` where no host was named)."""
    asked = f"Which {slot}: {', '.join(choices)}?" if choices else f"What should {slot} be?"
    question = _ASKED.get(kind, asked)
    return f"{question} For example: `{example}`" if example else question


def no_tool_for(verb: str) -> str:
    return (
        f"I have no tool to {verb} that. To run a command instead, write it as "
        '`run "<command>" on <host>` (it needs approval).'
    )


def offered(change: str, act: str) -> str:
    """A change that was talked about, not ordered: what runs instead, and how to ask for it."""
    lead = {
        "past": "I looked up what was done",
        "advice": "Here is the current state first",
        "hypothetical": "Here is the current state",
        "question": "Here is the current state",
        "report": "Here is the current state",
    }.get(act, "Here is the current state")
    return f"{lead}; I did not change anything. To do it, send `{change}`."


def general_question(example: str) -> str:
    """A question about a kind of thing, not about hosts: nothing to plan, a concrete read offered."""
    if not example:
        return f"That is a general question, not a task on your hosts. {ABOUT}"
    lead = "That is a general question: I plan and run tasks on the hosts in the inventory."
    return f"{lead} To look at one of yours, send `{example}`."


def suggest_only(change: str) -> str:
    return f"I did not change anything. To do it, send `{change}`."


def reading_choices(readings: list[str]) -> str:
    listed = "; ".join(f"{n}. `{r}`" for n, r in enumerate(readings, 1))
    return f"I am not sure what you mean. Did you mean: {listed}? Send the number or the command."


def which_reading(readings: list[str]) -> str:
    listed = "; ".join(f"{n}. `{r}`" for n, r in enumerate(readings, 1))
    return f"Which one? {listed}. Send the number or the command."


def which_one(candidates: list[str], wanted: int = 1) -> str:
    shown = ", ".join(candidates[:8]) + (" ..." if len(candidates) > 8 else "")
    which = "Which one" if wanted == 1 else f"Which {wanted}"
    return f"{which} do you mean? That matches {len(candidates)} assets: {shown}."


def refers_to_nothing() -> str:
    return (
        "What should that refer to? I have no earlier request of yours here to go back to: "
        "name the hosts and what to do, e.g. `ping web-01`."
    )


def what_to_do(names: list[str]) -> str:
    return f"What should I do with {', '.join(names)}? e.g. `ping {names[0]}` or `uptime on {names[0]}`."


def shell_syntax() -> str:
    return (
        "That request contains shell syntax (;, |, `...`, $(...)). I will not run part of it. "
        'To run a command, write it as `run "<command>" on <host>` (it needs approval).'
    )


def declined() -> str:
    return "OK, I left it as it is. Nothing was changed."


def not_doing(verbs: list[str]) -> str:
    """Nothing is left once the negated or cancelled part is dropped."""
    said = ", ".join(dict.fromkeys(v.lower() for v in verbs))
    return f"OK, I will not {said}. Nothing to run; tell me what you want done instead."


def unsupported(tool: str) -> str:
    return f"{tool} is not available here."


def describe_call(call: ToolCall) -> str:
    where = ", ".join(call.targets)
    if call.selector is not None and not call.selector.is_empty():
        where = (where + " + " if where else "") + describe_selector(call)
    args = " ".join(f"{k}={v}" for k, v in call.args.items())
    return " ".join(p for p in (call.tool, args, f"on {where}" if where else "") if p)


def describe_selector(call: ToolCall) -> str:
    sel = call.selector
    if sel is None:
        return ""
    parts = [f"{label}={','.join(values)}" for label, values in _fields(call) if values]
    parts += [f"{k}={v}" for k, v in sel.tags.items()]
    if sel.exclude:
        parts.append(f"except {','.join(sel.exclude)}")
    return " ".join(parts) or "all assets"


def _fields(call: ToolCall) -> list[tuple[str, tuple[str, ...]]]:
    sel = call.selector
    assert sel is not None
    return [
        ("env", sel.environments),
        ("location", sel.locations),
        ("os", sel.os),
        ("type", sel.types),
        ("service", sel.services),
        ("names", sel.names),
    ]


def low_confidence(calls: list[ToolCall]) -> str:
    """Say what was understood and offer it in the structured form that the grammar parses."""
    if not calls:
        return "I am not sure what you want me to do. Type `help` for examples on your hosts."
    forms = " then ".join(f"`{structured(c)}`" for c in calls)
    return f"I am not sure I understood. My best reading is {forms}; send that if it is right."


def structured(call: ToolCall) -> str:
    """`app.cache_flush web-01 app=shop`, `app.cache_flush env=staging app=shop` (sent back, it plans)."""
    parts = [call.tool, *call.targets]
    sel = call.selector
    if sel is not None:
        for key, values in (
            ("env", sel.environments),
            ("location", sel.locations),
            ("os", sel.os),
            ("type", sel.types),
            ("service", sel.services),
        ):
            if len(values) == 1:
                parts.append(f"{key}={_quoted(values[0])}")
        if sel.names:
            parts.append(f"names={','.join(sel.names)}")
        parts += [f"{k}={_quoted(v)}" for k, v in sel.tags.items()]
    written = {part.split("=", 1)[0] for part in parts if "=" in part}
    for key, value in call.args.items():
        if value is None or value == "" or value == [] or value == {} or _ALIASES.get(key, key) in written:
            continue
        rendered = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        parts.append(f"{key}={_quoted(rendered)}")
    return " ".join(parts)


_ALIASES = {"environment": "env", "name": "name"}


def _quoted(value: str) -> str:
    """A value as the grammar reads it back: bare when it is one plain word, else in double quotes
    with backslashes and double quotes escaped (pipeline.nlu.tokens' rules)."""
    if value and not any(c.isspace() or c in "\"'`;\u201c\u201d" for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\u201d", "\\\u201d")
    return f'"{escaped}"'


LLM_DOWN = "The language model is unreachable; structured commands still work."


def llm_overflow(detail: str) -> str:
    return f"This request is too long for the language model ({detail}); structured commands still work."


def beyond_bound(tool: str, slot: str, asked: float, bound: float, unit: str, at_bound: str) -> str:
    """A value past what the tool's declaration allows: the limit, what was asked, and the request
    at the limit (sent back, it plans)."""
    side = "at most" if asked > bound else "at least"
    return (
        f"{tool} takes {slot} {side} {_number(bound)}{unit}; you asked for {_number(asked)}{unit}. "
        f"To run it at the limit, send `{at_bound}`."
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
