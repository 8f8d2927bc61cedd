"""Structured results (processes, disks, hops, port states, asset lists) reach every platform as
real tables within its limits, with the same one-line summary and no Python reprs: the data comes
from this machine's own `ps` and `df` read by the tools' parsers, and from the ping tool's output."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botbuilder.core import serializer_helper
from PIL import Image
from rich.console import Console

from adapters.console.render import render as console_render
from adapters.rendering import plain_report
from adapters.slack.render import render_reply as slack_reply
from adapters.teams.outbox import card_activity
from adapters.teams.render import CARD_BUDGET, CARD_VERSION, card_size
from adapters.teams.render import render_reply as teams_reply
from domains.automation import linux
from domains.network.icmp import PingStats
from domains.network.tools import ping_output
from pipeline.contracts import (
    ExecutionResult,
    Plan,
    PlanStep,
    Reply,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.messages import counted
from pipeline.stages.answer import result_reply
from tests.adapters.card_html import slack_page, teams_page
from tests.adapters.teams.cards import texts as card_texts
from tests.adapters.test_prompt_screenshots import ink, screenshot
from tests.fakes.slack_api import block_kit_error

NOW = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
TEAMS_LIMIT = 28 * 1024


def local(command: str) -> str:
    return subprocess.run(["sh", "-c", command], check=True, capture_output=True, text=True).stdout


def processes_output(count: int) -> ToolOutput:
    """The process list tool's output shape over this machine's real `ps`, repeated to `count` rows."""
    found = linux.parse_processes(local(linux.PROCESS_COMMAND))
    assert found
    rows = [dict(found[i % len(found)], pid=i + 1) for i in range(count)]
    data = {"total": count, "matched": count, "processes": rows}
    return ToolOutput(summary=f"{count} processes", data=data)


def disk_output() -> ToolOutput:
    data = linux.parse_system_info(local(linux.system_info_command(["disk"])))
    assert data["disk"]
    return ToolOutput(summary=counted(len(data["disk"]), "filesystem"), data=data)


def hops_output() -> ToolOutput:
    hops = [
        {"ttl": 1, "address": "10.0.0.1", "rtt_ms": 0.42, "note": ""},
        {"ttl": 2, "address": "", "rtt_ms": None, "note": "no answer"},
        {"ttl": 3, "address": "10.9.0.3", "rtt_ms": 3.1, "note": "destination"},
    ]
    data = {"address": "10.9.0.3", "method": "icmp", "reached": True, "hops": hops}
    return ToolOutput(summary="10.9.0.3 reached in 3 hops", data=data)


def reply_of(*outputs: tuple[str, str, ToolOutput]) -> Reply:
    """The answer stage's reply for one step per (tool, target, output)."""
    steps = tuple(PlanStep(id=f"s{i}", tool=tool, risk=Risk.READ) for i, (tool, _, _) in enumerate(outputs))
    results = tuple(
        StepResult(
            step_id=f"s{i}",
            tool=tool,
            results=(TargetResult(target=target, status=TargetStatus.OK, duration_ms=12, output=out),),
        )
        for i, (tool, target, out) in enumerate(outputs)
    )
    return result_reply(
        Plan(steps=steps), ExecutionResult(execution_id="e1", status="succeeded", steps=results)
    )


def three_tables(rows: int) -> Reply:
    """One target's processes (`rows` of them), disks and traceroute hops."""
    return reply_of(
        ("automation.process_list", "web-01", processes_output(rows)),
        ("automation.system_info", "web-01", disk_output()),
        ("network.traceroute", "web-01", hops_output()),
    )


def console_text(reply: Reply) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(console_render(reply))
    return buffer.getvalue()


def slack_tables(blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [b for b in blocks if b["type"] == "table"]


def test_records_become_tables_and_the_summary_is_not_repeated() -> None:
    ping = ping_output("web-01", PingStats(address="10.0.0.5", sent=3, rtts_ms=[0.1, 0.2, 0.3]))
    reply = reply_of(("network.ping", "web-01", ping))
    (section,) = reply.sections
    assert reply.summary.endswith(ping.summary)
    assert dict(section.facts) == {"time": "12 ms", "address": "10.0.0.5"}  # 3/3, loss, rtts: in the summary
    reply = reply_of(("automation.process_list", "web-01", processes_output(5)))
    (table,) = reply.sections[0].tables
    assert table.columns[:3] == ("pid", "user", "cpu_percent") and len(table.rows) == 5
    assert "total" not in dict(reply.sections[0].facts)  # "5 processes" says it


def test_port_states_are_grouped_not_listed_as_a_map() -> None:
    states = {str(p): ("open" if p == 22 else "closed") for p in range(20, 31)}
    out = ToolOutput(
        summary="1 open (22); 10 closed, 0 filtered of 11 scanned on 10.0.0.5", data={"ports": states}
    )
    facts = dict(reply_of(("network.port_scan", "web-01", out)).sections[0].facts)
    assert facts["ports closed"] == "20, 21, 23, 24, 25, 26, 27, 28, 29, 30"
    assert "ports open" not in facts  # the summary lists the open port


@pytest.mark.parametrize("rows", [3, 150])
def test_console_draws_every_row_with_headers(rows: int) -> None:
    reply = three_tables(rows)
    shown = console_text(reply)
    assert "{'" not in shown and "None" not in shown
    assert "web-01 · processes" in shown and "web-01 · disk" in shown and "web-01 · hops" in shown
    header = next(line for line in shown.splitlines() if "pid" in line and "command" in line)
    assert header.split()[:3] == ["pid", "user", "cpu_percent"]
    assert all(f" {pid} " in f" {shown} " for pid in (1, rows))
    assert "no answer" in shown and "destination" in shown


@pytest.mark.parametrize("rows", [3, 150, 1_000])
def test_slack_shows_one_table_block_within_limits_and_attaches_the_rest(rows: int) -> None:
    reply = three_tables(rows)
    message = slack_reply(reply)
    assert block_kit_error({"text": message.text, "blocks": message.blocks}) is None
    (table,) = slack_tables(message.blocks)
    header = [c["text"] for c in table["rows"][0]]  # type: ignore[index]
    assert header[:3] == ["pid", "user", "cpu_percent"]
    shown = json.dumps(message.blocks, ensure_ascii=False)
    assert "{'" not in shown and "web-01 · disk" in shown and "web-01 · hops" in shown
    assert "```" in shown  # the other tables in monospace sections
    if rows > 99:
        assert f"of {rows:,} rows" in shown and message.full_text is not None
        assert "web-01 · processes" in message.full_text  # every row the answer holds is in the file
    else:
        assert len(table["rows"]) == rows + 1  # type: ignore[arg-type]


def test_slack_refuses_a_second_table_block_and_the_stand_in_says_so() -> None:
    block = {"type": "table", "rows": [[{"type": "raw_text", "text": "a"}]]}
    assert block_kit_error({"blocks": [block, block]}) == "only_one_table_allowed"
    assert block_kit_error({"blocks": [{**block, "rows": [[{"type": "raw_text", "text": "x"}]] * 101}]})


@pytest.mark.parametrize("rows", [3, 150, 1_000])
def test_teams_uses_adaptive_card_tables_within_the_size_budget(rows: int) -> None:
    reply = three_tables(rows)
    card = teams_reply(reply)
    assert card["version"] == CARD_VERSION == "1.5"  # Table came with schema 1.5
    activity = json.dumps(serializer_helper(card_activity(card, "summary"))).encode()
    assert card_size(card) <= CARD_BUDGET and len(activity) < TEAMS_LIMIT
    tables = [
        item
        for c in card["body"]
        if c["type"] == "Container"
        for item in c["items"]
        if item["type"] == "Table"
    ]
    assert len(tables) == 3
    for table in tables:
        widths = len(table["columns"])
        assert table["firstRowAsHeader"] and all(len(r["cells"]) == widths for r in table["rows"])
        assert all(r["type"] == "TableRow" and r["cells"][0]["type"] == "TableCell" for r in table["rows"])
    header = [c["items"][0]["inlines"][0]["text"] for c in tables[0]["rows"][0]["cells"]]
    assert header[:3] == ["pid", "user", "cpu_percent"]
    shown = card_texts(card)
    assert "{'" not in shown and reply.summary in shown
    if rows > 50:
        assert f"of {rows:,} rows)" in shown


def test_the_full_report_holds_every_row() -> None:
    reply = reply_of(("automation.process_list", "web-01", processes_output(150)))
    report = plain_report(reply)
    rows = [line.split()[0] for line in report.splitlines() if line.lstrip()[:1].isdigit()]
    assert "web-01 · processes\npid" in report and rows == [str(pid) for pid in range(1, 151)]


def grid_lines(image: Image.Image) -> int:
    """Rows of the picture crossed by a long run of the grid's grey (a table's horizontal rules)."""
    width, height = image.size
    raw = image.tobytes()
    count = 0
    for y in range(height):
        row = raw[y * width * 3 : (y + 1) * width * 3]
        greys = sum(
            1 for x in range(0, len(row), 3) if 195 <= row[x] <= 215 and row[x] == row[x + 1] == row[x + 2]
        )
        count += greys > 200
    return count


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_result_tables_are_drawn_as_grids(platform: str, tmp_path: Path) -> None:
    reply = reply_of(
        ("automation.process_list", "web-01", processes_output(8)),
        ("network.traceroute", "web-01", hops_output()),
    )
    page = slack_page(slack_reply(reply).blocks) if platform == "slack" else teams_page(teams_reply(reply))
    assert page.count('<table class="grid">') == (1 if platform == "slack" else 2)
    image = screenshot(page, tmp_path / f"{platform}-result.png")
    assert 0.02 < ink(image) < 0.6
    assert grid_lines(image) >= 9  # the process table's header and eight rows, ruled
