"""Commands and scripts are read by shell-like quoting rules (escaped quotes, single quotes, code
spans, fenced blocks, quoted parts of an unquoted command line), the approver's text shows them
exactly, and the structured form the bot offers back quotes them so that they read the same."""

from __future__ import annotations

import pytest

from adapters.rendering import steps_text
from pipeline.nlu import messages as nlu_messages
from pipeline.nlu.tokens import tokenize
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR

CURL = 'curl -H "Authorization: Bearer x" http://x'


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ('run "curl -H \\"Authorization: Bearer x\\" http://x" on web-01', CURL),
        ("run 'curl -H \"Authorization: Bearer x\" http://x' on web-01", CURL),
        ('run `curl -H "Authorization: Bearer x" http://x` on web-01', CURL),
        ('on web-01 run "curl -H \\"Authorization: Bearer x\\" http://x"', CURL),
        (
            "run \u201ccurl -H \\\u201cAuthorization: Bearer x\\\u201d http://x\u201d on web-01",
            "curl -H \u201cAuthorization: Bearer x\u201d http://x",
        ),
        ('run "grep \\"a\\\\\\"b\\" /etc/hosts" on web-01', 'grep "a\\"b" /etc/hosts'),
        ('run "echo C:\\\\temp" on web-01', "echo C:\\temp"),
        ("run \"echo 'it''s'\" on web-01", "echo 'it''s'"),
        ('run echo "hello world" on web-01', 'echo "hello world"'),
        ('run ls -la "/tmp/my dir" on web-01', 'ls -la "/tmp/my dir"'),
        ("run printf '%s\\n' \"a b\" on web-01", "printf '%s\\n' \"a b\""),
        ('execute on web-01: grep -c "GET /" /var/log/syslog', 'grep -c "GET /" /var/log/syslog'),
        ('run the following on web-01: echo "a b" | tee /tmp/x', 'echo "a b" | tee /tmp/x'),
        ('run the command "df -h" on web-01', "df -h"),
        ('run on web-01 "df -h"', "df -h"),
        ('run on web-01:\n```\necho "a b"\nls -l\n```', 'echo "a b"\nls -l'),
    ],
)
async def test_commands_read_by_shell_quoting(planner: HybridPlanner, text: str, command: str) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    (step,) = plan.steps
    assert (step.tool, step.args["command"], [t.name for t in step.targets]) == (
        "automation.run_command",
        command,
        ["web-01"],
    )
    assert "\n".join(f"   | {line}" for line in command.split("\n")) in steps_text(plan) or (
        f"   command: {command}\n" in steps_text(plan)
    )


async def test_fenced_script_keeps_its_quotes(planner: HybridPlanner) -> None:
    body = 'echo "a \\"b\\" c"\nprintf \'%s\\n\' `date`'
    plan = await planner.plan(f"run a bash script on web-01:\n```bash\n{body}\n```", OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert (plan.steps[0].tool, plan.steps[0].args["script"]) == ("automation.run_script", body)


@pytest.mark.parametrize(
    "value",
    [CURL, 'a\\"b', "C:\\Program Files\\x", "it's", "`date`", "ls; reboot", "\u201cq\u201d x", "a\\b"],
)
def test_structured_values_read_back_the_same(value: str) -> None:
    written = nlu_messages._quoted(value)
    (token,) = tokenize(f"command={written}")
    assert token.kind == "kv" and token.text == f"command={value}", written


async def test_offered_form_of_a_quoted_command_plans_the_same_command(planner: HybridPlanner) -> None:
    asked = await planner.plan('run "curl -H \\"Authorization: Bearer x\\" http://x"', OPERATOR)
    assert asked.outcome == "clarify"
    offered = asked.message.split("`")[1].replace("<host>", "web-02")
    again = await planner.plan(offered, OPERATOR)
    assert again.outcome == "plan", again.message
    assert again.steps[0].args["command"] == CURL
