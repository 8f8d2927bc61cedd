"""The path policy and key-body redaction against a real OpenSSH sshd (root login, real files).

The attack: a viewer asks the bot for `/etc/shadow` (and dressed-up forms of it), a private key,
or a link to one, and today's bot shows the file in chat; a `tail` of a key file under an
innocent name leaks the key body because the BEGIN line is cut off. Now the plan is refused
naming the rule, the link is refused after it is resolved on the target, and the key body is
redacted whatever slice of it is shown.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.ssh import AsyncsshShell
from domains.assets.directory import InMemoryAssetDirectory
from domains.automation.ports import RemoteShell
from domains.catalog import build_registry
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Reply,
    Response,
    TargetStatus,
)
from pipeline.kernel import Kernel
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.redaction import Redactor
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.integration.sshd_fixtures import SSH_HOSTS

pytestmark = pytest.mark.sshd

WEB = AssetRef(name="web-01", address=SSH_HOSTS[2], os="linux", type="web_server", environment="production")
MESSAGE = InboundMessage(identity=ChatIdentity(platform="console", user_id="vic"), text="(a stored plan)")


@dataclass
class Bot:
    kernel: Kernel
    audit: MemoryAuditLog

    async def say(self, text: str, user: str = "vic") -> Response:
        return await self.kernel.submit(
            InboundMessage(identity=ChatIdentity(platform="console", user_id=user), text=text)
        )


@pytest.fixture
def bot(shell: AsyncsshShell) -> Bot:
    registry = build_registry()
    policy = Policy.default(registry)
    store, audit = MemoryExecutionStore(), MemoryAuditLog()
    kernel = Kernel(
        planner=HybridPlanner(
            registry, InMemoryAssetDirectory([WEB]), permitted_tools=policy.permitted_tools
        ),
        policy=policy,
        identity=StaticIdentity({"vic": {"viewer"}, "root": {"admin"}}),
        store=store,
        audit=audit,
        executor=Executor(
            registry, policy, store, services={RemoteShell: shell}, redact=Redactor().redact_text
        ),
    )
    return Bot(kernel, audit)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the sshd (root, same file system) can read."""
    path = Path("/tmp") / f"oc-path-policy-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def only_result(reply: Response) -> tuple[TargetStatus, str, str]:
    assert isinstance(reply, Reply) and reply.result is not None, reply
    [step] = reply.result.steps
    [result] = step.results
    return result.status, result.output.stdout, result.error


async def test_a_file_outside_the_rules_is_read(bot: Bot, scratch: Path) -> None:
    (scratch / "app.log").write_text("started\nlistening on :8080\n")
    status, stdout, _ = only_result(await bot.say(f"tail {scratch}/app.log on web-01"))
    assert status is TargetStatus.OK and stdout == "started\nlistening on :8080\n"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/etc/shadow", "shadow-files"),
        ("/etc/./shadow", "shadow-files"),
        ("/var/log/../../etc/shadow", "shadow-files"),
        ("/etc/gshadow-", "shadow-files"),
        ("/root/.ssh/id_ed25519", "ssh-private-keys"),
        ("/etc/ssh/ssh_host_ed25519_key", "ssh-private-keys"),
        ("/etc/ssl/private/server.key", "tls-private-keys"),
        ("/srv/certs/site.PEM", "tls-private-keys"),
        ("/root/.aws/credentials", "credential-stores"),
        ("/home/deploy/.docker/config.json", "credential-stores"),
        ("/proc/1/environ", "process-environment"),
        ("/proc/self/environ", "process-environment"),
    ],
)
async def test_a_viewer_asking_for_secrets_is_refused_naming_the_rule(bot: Bot, path: str, rule: str) -> None:
    reply = await bot.say(f"tail {path} on web-01")
    assert reply.outcome == "refused", reply.summary
    assert f"path rule {rule}" in reply.summary and "Not permitted" in reply.summary
    assert "root:" not in reply.summary


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("//etc//shadow", "shadow-files"),
        ("/etc/shadow/", "shadow-files"),
        ("/etc/shadow.bak", "shadow-files"),
        ("/home/ops/.ssh/id_rsa", "ssh-private-keys"),
        ("C:\\Users\\Ops\\.ssh\\id_ed25519", "ssh-private-keys"),
        ("/root/.kube/config", "credential-stores"),
        ("/root/.netrc", "credential-stores"),
        ("/var/lib/postgresql/.pgpass", "credential-stores"),
        ("/proc/412/task/412/environ", "process-environment"),
    ],
)
async def test_a_plan_that_skipped_planning_is_refused_by_the_executor(
    bot: Bot, path: str, rule: str
) -> None:
    """A plan the planner never checked (hostile model output, a stored plan): the executor re-checks."""
    executor = bot.kernel.executor
    step = PlanStep(
        id="s1", tool="automation.read_file", args={"path": path, "tail_lines": 5}, targets=(WEB,)
    )
    viewer = Principal(subject="vic", roles=frozenset({"viewer"}))
    assert f"path rule {rule}" in (bot.kernel.policy.step_denial(step, viewer) or "")
    execution_id = await executor.store.create(Plan(steps=(step,)), MESSAGE, viewer, "running")
    result = await executor.run(execution_id, Plan(steps=(step,)), viewer)
    [target] = result.steps[0].results
    assert target.status is TargetStatus.FAILED and f"path rule {rule}" in target.error
    assert target.output.stdout == ""


async def test_an_admin_is_refused_shadow_files_too(bot: Bot) -> None:
    reply = await bot.say("tail /etc/shadow on web-01", user="root")
    assert reply.outcome == "refused" and "path rule shadow-files" in reply.summary


async def test_a_link_to_a_denied_file_is_refused_once_resolved_on_the_target(
    bot: Bot, scratch: Path
) -> None:
    (scratch / "notes.txt").symlink_to("/etc/shadow")
    (scratch / "sub").mkdir()
    (scratch / "sub" / "up").symlink_to("/etc")
    for path in (scratch / "notes.txt", scratch / "sub" / "up" / "shadow"):
        status, stdout, error = only_result(await bot.say(f"tail {path} on web-01"))
        assert status is TargetStatus.FAILED and stdout == ""
        assert "not permitted" in error and "/etc/shadow" in error and "path rule shadow-files" in error
    assert "root:" not in str(bot.audit.records)


def keys(tmp: Path) -> dict[str, str]:
    """Real private keys, as ssh-keygen and openssl write them."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "ed")], check=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp / "rsa")], check=True
    )
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(tmp / "pk8"),
        ],
        check=True,
        capture_output=True,
    )
    return {name: (tmp / name).read_text() for name in ("ed", "rsa", "pk8")}


async def test_a_tail_of_a_key_under_an_innocent_name_does_not_leak_its_body(
    bot: Bot, scratch: Path, tmp_path: Path
) -> None:
    for name, key in keys(tmp_path).items():
        copy = scratch / f"{name}-backup.txt"  # no rule matches the name: redaction is what is left
        copy.write_text(key)
        body = [line for line in key.splitlines() if line and not line.startswith("-----")]
        for lines in (2, 3, 5, len(body)):
            status, stdout, _ = only_result(await bot.say(f"last {lines} lines of {copy} on web-01"))
            assert status is TargetStatus.OK
            assert "[REDACTED]" in stdout, stdout
            assert not [b for b in body if b in stdout], f"{name}: key body in a tail of {lines} lines"
