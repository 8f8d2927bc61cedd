"""Understanding with an LLM: classify + select + plan in ONE schema-constrained call.

Prompt layout, chosen for the inference server's prefix cache:

    system  rules, tool list (sorted by name), examples, the inventory's selector values
    user    the names, services and tags the request could refer to (looked up, capped);
            the chat text, fenced by markers derived from its hash, declared data

For a given set of offered tools and a given inventory the system message is
byte-identical between requests, so vLLM (and llama.cpp's slot cache) reuse its
KV cache; different role sets offer different tools and so have their own prefix.
Neither part grows with the inventory (`pipeline.prompts.inventory`).

The output schema is bounded (enums, maxItems, maxLength) and has one variant per
offered tool, so a constrained decoder can only emit an offered tool with that tool's
argument names. The answer is parsed into the pipeline contracts; anything that does
not parse raises `InvalidModelOutput`. Whether the tools, targets and argument values
are acceptable is stage C's job (and policy's), not this module's.

`confirm` is the other call on the same prefix: the request and a change the grammar read from
it, answered "agree" or "disagree" with the model's own reading (`confirmation_schema`).

`LLMResultSummarizer` is the optional answer-stage call: a short summary and
recommendations over results that are already rendered by templates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.contracts import (
    AssetFilter,
    AssetRef,
    Confirmation,
    Intent,
    Interpretation,
    Principal,
    Reply,
    ReplySection,
    ToolCall,
    Understanding,
)
from pipeline.errors import InvalidModelOutput, InvalidRequest
from pipeline.nlu.inventory import InventoryIndex
from pipeline.ports import LLMClient, LLMUsage
from pipeline.prompts import examples, inventory, render
from pipeline.prompts.schema import (
    EXAMPLES,
    MAX_CALLS,
    MAX_TARGETS,
    confirmation_schema,
    response_schema,
    tool_line_args,
)
from pipeline.registry import ToolSpec

SCHEMA_NAME = "opsconductor_plan"
CONFIRM_SCHEMA_NAME = "opsconductor_confirmation"
SUMMARY_TITLE = "Summary (language model)"  # says whose words the first section is


# --------------------------------------------------------------------------- model answer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Selector(_Strict):
    names: list[str] = Field(default_factory=list, max_length=64)
    types: list[str] = Field(default_factory=list, max_length=16)
    os: list[str] = Field(default_factory=list, max_length=16)
    environments: list[str] = Field(default_factory=list, max_length=16)
    locations: list[str] = Field(default_factory=list, max_length=16)
    tags: dict[str, str] = Field(default_factory=dict)
    services: list[str] = Field(default_factory=list, max_length=16)
    exclude: list[str] = Field(default_factory=list, max_length=64)

    def to_filter(self) -> AssetFilter | None:
        selector = AssetFilter(
            names=tuple(self.names),
            types=tuple(self.types),
            os=tuple(self.os),
            environments=tuple(self.environments),
            locations=tuple(self.locations),
            tags=dict(self.tags),
            services=tuple(self.services),
            exclude=tuple(self.exclude),
        )
        return None if selector.is_empty() else selector


class _Call(_Strict):
    tool: str = Field(min_length=1, max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)
    targets: list[str] = Field(default_factory=list, max_length=MAX_TARGETS)
    selector: _Selector | None = None

    @field_validator("targets")
    @classmethod
    def no_blank_targets(cls, targets: list[str]) -> list[str]:
        return [t.strip() for t in targets if t.strip()]

    def to_call(self) -> ToolCall:
        selector = self.selector.to_filter() if self.selector else None
        return ToolCall(tool=self.tool, args=self.args, targets=tuple(self.targets), selector=selector)


class ModelAnswer(_Strict):
    """The JSON object the understanding prompt asks for (see `response_schema`)."""

    intent: Intent
    category: str = Field(max_length=32)
    confidence: float
    outcome: Literal["plan", "no_action", "clarify"]
    message: str = Field(default="", max_length=500)
    calls: list[_Call] = Field(default_factory=list, max_length=MAX_CALLS)

    @field_validator("confidence")
    @classmethod
    def clamp(cls, value: float) -> float:
        return min(1.0, max(0.0, value))


# --------------------------------------------------------------------------- prompts


def fence(text: str, kind: str) -> tuple[str, str]:
    """Begin/end markers for data, derived from its hash so the data cannot forge them."""
    tag = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"<<{kind} {tag}>>", f"<<end of {kind} {tag}>>"


def system_prompt(tools: Sequence[ToolSpec], vocab: Sequence[tuple[str, str]]) -> str:
    """The stable prefix: rules, tools (sorted), examples for offered tools, vocabulary."""
    ordered = sorted(tools, key=lambda t: t.name)
    offered = {t.name for t in ordered}
    views = [
        {
            "name": t.name,
            "risk": t.risk.value,
            "takes_targets": t.takes_targets,
            "description": " ".join(t.description.split()),
            "args": tool_line_args(t),
        }
        for t in ordered
    ]
    shown = [*examples.declared(ordered), *((e.request, e.answer) for e in EXAMPLES if e.tools <= offered)]
    few = [
        {"request": request, "answer": json.dumps(answer, separators=(",", ":"))} for request, answer in shown
    ]
    listing = [t.name for t in ordered if _lists_assets(t)]
    return render("understand_system", tools=views, examples=few, vocabulary=vocab, listing=listing)


def _lists_assets(tool: ToolSpec) -> bool:
    """A tool that answers with the assets its filters select (its arguments are all filters)."""
    slots = tool.phrasing.slots.values()
    return tool.phrasing.untargeted == "all" and bool(slots) and all(s.kind == "filter" for s in slots)


def user_prompt(text: str, referred: Sequence[tuple[str, str]] = ()) -> str:
    begin, end = fence(text, "request")
    return render("understand_user", text=text, begin=begin, end=end, referred=referred)


def confirm_prompt(text: str, reading: Sequence[ToolCall], referred: Sequence[tuple[str, str]] = ()) -> str:
    begin, end = fence(text, "request")
    calls = "\n".join(json.dumps(_call_view(c), sort_keys=True, default=str) for c in reading)
    return render("confirm_user", text=text, begin=begin, end=end, referred=referred, reading=calls)


def _call_view(call: ToolCall) -> dict[str, Any]:
    """A call as the response schema spells it (tool, args, targets, selector)."""
    view: dict[str, Any] = {"tool": call.tool, "args": call.args, "targets": list(call.targets)}
    if call.selector is not None and not call.selector.is_empty():
        view["selector"] = call.selector.model_dump(mode="json", exclude_defaults=True)
    return view


# --------------------------------------------------------------------------- understander


class LLMUnderstander:
    """`Understander` backed by one structured LLM call per request.

    Raises `LLMUnavailable` (server down, retries exhausted), `InvalidModelOutput`
    (the answer does not parse into the contracts) and `InvalidRequest` (text too long).
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        max_tokens: int = 512,
        max_text_chars: int = 4000,
        include_addresses: bool = False,
    ) -> None:
        self.client = client
        self.max_tokens = max_tokens
        self.max_text_chars = max_text_chars
        self.include_addresses = include_addresses
        self._prefixes: dict[tuple[object, ...], tuple[str, dict[str, Any]]] = {}
        self._index: InventoryIndex | None = None

    async def understand(
        self,
        text: str,
        principal: Principal,
        assets: Sequence[AssetRef],
        tools: Sequence[ToolSpec],
    ) -> Understanding:
        """Classify, select and plan `text` in one call, offering only `tools`."""
        if len(text) > self.max_text_chars:
            raise InvalidRequest(f"request longer than {self.max_text_chars} characters")
        messages, schema = self.prompt(text, assets, tools)
        raw, usage = await self.client.complete_json(
            messages, schema, schema_name=SCHEMA_NAME, stage="understand", max_tokens=self.max_tokens
        )
        return to_understanding(raw, usage)

    async def confirm(
        self,
        text: str,
        reading: Sequence[ToolCall],
        principal: Principal,
        assets: Sequence[AssetRef],
        tools: Sequence[ToolSpec],
    ) -> Confirmation:
        """Does `reading` (a change the grammar read from `text`) do what `text` asks? One call."""
        if len(text) > self.max_text_chars:
            raise InvalidRequest(f"request longer than {self.max_text_chars} characters")
        messages, _ = self.prompt(text, assets, tools, reading=reading)
        raw, usage = await self.client.complete_json(
            messages,
            confirmation_schema(tools),
            schema_name=CONFIRM_SCHEMA_NAME,
            stage="confirm",
            max_tokens=self.max_tokens,
        )
        return to_confirmation(raw, usage)

    def prompt(
        self,
        text: str,
        assets: Sequence[AssetRef],
        tools: Sequence[ToolSpec],
        *,
        reading: Sequence[ToolCall] = (),
    ) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The messages and response schema for `text` (system part memoised per tools+inventory);
        with `reading`, the user message asks to confirm it instead (same system part)."""
        system, schema = self._prefix(assets, tools)
        if self._index is None or self._index.assets is not assets:
            self._index = InventoryIndex.build(assets)
        referred = inventory.relevant(text, self._index, addresses=self.include_addresses)
        user = confirm_prompt(text, reading, referred) if reading else user_prompt(text, referred)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}], schema

    def _prefix(self, assets: Sequence[AssetRef], tools: Sequence[ToolSpec]) -> tuple[str, dict[str, Any]]:
        vocab = tuple(inventory.summary(assets))
        key = (tuple(sorted(t.name for t in tools)), vocab)
        if key not in self._prefixes:
            if len(self._prefixes) >= 32:  # role sets x inventory versions: small; start afresh
                self._prefixes.clear()
            self._prefixes[key] = (system_prompt(tools, vocab), response_schema(tools))
        return self._prefixes[key]


def to_understanding(raw: dict[str, Any], usage: LLMUsage) -> Understanding:
    """Parse the model's JSON into an `Understanding`; raise InvalidModelOutput if it does not fit."""
    try:
        answer = ModelAnswer.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:3])
        raise InvalidModelOutput(f"model answer does not fit the plan schema: {problems}") from err
    if answer.outcome == "plan" and not answer.calls:
        raise InvalidModelOutput("model answered 'plan' without any tool call")
    calls = tuple(c.to_call() for c in answer.calls) if answer.outcome == "plan" else ()
    interpretation = Interpretation(
        intent=answer.intent,
        category=answer.category,
        confidence=answer.confidence,
        source="cache" if usage.cached else "llm",
    )
    return Understanding(
        interpretation=interpretation,
        calls=calls,
        outcome=answer.outcome,
        message=answer.message.strip(),
        llm_calls=0 if usage.cached else 1,
        llm_tokens=usage.prompt_tokens + usage.completion_tokens,
    )


def to_confirmation(raw: dict[str, Any], usage: LLMUsage) -> Confirmation:
    """Parse the confirmation answer; raise InvalidModelOutput if it does not fit its schema."""
    verdict = raw.get("verdict")
    calls, tokens = (0 if usage.cached else 1), usage.prompt_tokens + usage.completion_tokens
    if verdict == "agree":
        return Confirmation(agrees=True, llm_calls=calls, llm_tokens=tokens)
    reading = raw.get("reading")
    if verdict != "disagree" or not isinstance(reading, dict):
        raise InvalidModelOutput("model confirmation is neither an agreement nor a reading of its own")
    own = to_understanding(reading, usage)  # the call's usage is the confirmation's, counted once
    return Confirmation(agrees=False, reading=own, llm_calls=calls, llm_tokens=tokens)


# --------------------------------------------------------------------------- answer stage


class _Summary(_Strict):
    summary: str = Field(min_length=1, max_length=1200)
    recommendations: list[str] = Field(default_factory=list, max_length=5)


def summary_schema(max_recommendations: int) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["summary", "recommendations"],
        "properties": {
            "summary": {"type": "string", "minLength": 1, "maxLength": 600},
            "recommendations": {
                "type": "array",
                "maxItems": max_recommendations,
                "items": {"type": "string", "maxLength": 200},
            },
        },
    }


def result_lines(reply: Reply, max_chars: int = 600) -> list[str]:
    """One line per section of a templated reply, long output cut to its tail."""
    lines = [f"summary: {reply.summary}"]
    for section in reply.sections:
        status = section.status.value if section.status else ""
        facts = ", ".join(f"{k}={v}" for k, v in section.facts)
        output = section.text[-max_chars:].replace("\n", " | ") if section.text else ""
        lines.append(" ; ".join(p for p in (section.title, status, facts, output) if p))
        for table in section.tables:  # the first rows of records (processes, disks, hops)
            rows = " | ".join(", ".join(row) for row in table.rows)
            lines.append(f"{section.title} {table.title} ({', '.join(table.columns)}): {rows[:max_chars]}")
    return lines


class LLMResultSummarizer:
    """Optional answer stage: an LLM summary and recommendations, on request only.

    `summarize` returns the templated reply with the model's summary added as a first
    section (titled as the model's) and its recommendations appended, marked
    `answer_by="llm"`; the templated summary line stays, so a wrong model answer cannot hide
    the facts. Raises like `LLMUnderstander`.
    """

    def __init__(self, client: LLMClient, *, max_recommendations: int = 3, max_tokens: int = 320) -> None:
        self.client = client
        self.max_recommendations = max_recommendations
        self.max_tokens = max_tokens

    def prompt(self, text: str, reply: Reply) -> list[dict[str, str]]:
        lines = result_lines(reply)
        begin, end = fence("\n".join([text, *lines]), "results")
        system = render("answer_system", max_recommendations=self.max_recommendations)
        user = render("answer_user", text=text, results=lines, begin=begin, end=end)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def summarize(self, text: str, reply: Reply) -> tuple[Reply, LLMUsage]:
        raw, usage = await self.client.complete_json(
            self.prompt(text, reply),
            summary_schema(self.max_recommendations),
            schema_name="opsconductor_summary",
            stage="answer",
            max_tokens=self.max_tokens,
        )
        try:
            summary = _Summary.model_validate(raw)
        except ValidationError as err:
            raise InvalidModelOutput("model summary does not fit the schema") from err
        section = ReplySection(title=SUMMARY_TITLE, text=summary.summary.strip())
        recommendations = _unique([*reply.recommendations, *summary.recommendations])
        enriched = reply.model_copy(
            update={
                "sections": (section, *reply.sections),
                "recommendations": recommendations,
                "answer_by": "llm",
            }
        )
        return enriched, usage


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
