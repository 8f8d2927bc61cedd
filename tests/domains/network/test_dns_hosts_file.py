"""network.dns_lookup reads the hosts file first when it uses the system resolver, as the C
library does (`localhost` resolves with no DNS server); explicit nameservers are asked directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from domains.network import hosts_file
from domains.network.config import NetworkConfig
from domains.network.tools import DnsLookupArgs, dns_lookup
from pipeline.registry import ToolContext
from tests.domains.network.dns_server import StandInZone

ROOT = Path(__file__).resolve().parents[3]
HOSTS = """\
# comment line
127.0.0.1   localhost localhost.localdomain   # trailing comment
::1         localhost ip6-localhost
127.0.0.42  Build.Internal build
not-an-address  ignored
"""


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text(HOSTS)
    return path


async def lookup(config: NetworkConfig, name: str, record_type: str = "A") -> tuple[str, dict[str, object]]:
    args = DnsLookupArgs.model_validate({"name": name, "record_type": record_type})
    output = await dns_lookup(ToolContext("exec-1", "step-1", {NetworkConfig: config}), None, args)
    return output.summary, output.data


@pytest.mark.parametrize(
    ("name", "record_type", "records"),
    [
        ("localhost", "A", ["127.0.0.1"]),
        ("LOCALHOST.", "A", ["127.0.0.1"]),
        ("localhost", "AAAA", ["::1"]),
        ("build.internal", "A", ["127.0.0.42"]),
        ("127.0.0.42", "PTR", ["build.internal"]),
    ],
)
async def test_the_hosts_file_answers_first_with_the_system_resolver(
    hosts: Path, name: str, record_type: str, records: list[str]
) -> None:
    summary, data = await lookup(NetworkConfig(hosts_file=str(hosts)), name, record_type)
    assert data["records"] == records and data["nameserver"] == f"hosts file {hosts}"
    assert summary.endswith(f"(from the hosts file {hosts})")


def test_names_the_file_does_not_list_go_to_dns(hosts: Path) -> None:
    assert hosts_file.answer(hosts, "example.org", "A") is None
    assert hosts_file.answer(hosts, "localhost", "MX") is None
    assert hosts_file.answer(hosts / "missing", "localhost", "A") is None


@pytest.fixture
def shadowing(tmp_path: Path) -> Path:
    path = tmp_path / "shadowing-hosts"
    path.write_text("192.0.2.99 web.example.test\n")  # must not shadow the server's answer
    return path


async def test_explicit_nameservers_are_asked_directly(
    shadowing: Path, dns_server: tuple[str, int, StandInZone]
) -> None:
    address, port, _ = dns_server
    hosts = shadowing
    config = NetworkConfig(dns_nameservers=(address,), dns_port=port, hosts_file=str(hosts))
    _, data = await lookup(config, "web.example.test")
    assert sorted(data["records"]) == ["127.0.0.10", "127.0.0.11"]  # type: ignore[arg-type]


def test_dns_a_localhost_from_the_command_line(hosts: Path, tmp_path: Path) -> None:
    """`dns A localhost` is a DNS question (not a scan of port 53 on the demo host localhost),
    answered from the hosts file setting names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env.update({"OPSCONDUCTOR_HOME": str(tmp_path / "home"), "OPSCONDUCTOR_NETWORK__HOSTS_FILE": str(hosts)})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "dns A localhost"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    [step] = reply["plan"]["steps"]
    assert (step["tool"], step["args"]["name"], step["args"]["record_type"]) == (
        "network.dns_lookup",
        "localhost",
        "A",
    )
    assert reply["result"]["steps"][0]["results"][0]["output"]["data"]["records"] == ["127.0.0.1"]
