"""Address scopes and caps for raw targets, through the whole kernel, in a network namespace.

The attack: a viewer port-scans the cloud metadata address and private addresses outside the
inventory (up to 65,535 ports on 500 targets), and a host name that resolves to the metadata
address slips past any check on the plan. The namespace has a metadata stand-in (an HTTP
listener on 169.254.169.254:80 and on a private address) and a hosts file naming it, so on
today's main these scans find the port open. Now each is refused, naming the rule.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domains.catalog import build_registry
from pipeline.contracts import AssetRef, PlanStep, Principal, Risk
from pipeline.policy import Policy
from tests.domains.network.conftest import run_in_netns

METADATA = "169.254.169.254"
PRIVATE = "10.77.0.5"
NAME = "instance-data.corp.test"  # resolves to METADATA inside the namespace only
PROBE = Path(__file__).with_name("kernel_probe.py")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def metadata_ns() -> Iterator[str]:
    """A namespace whose `lo` also holds METADATA and PRIVATE, each with a listener on port 80."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2 (ip)")
    name = f"octest-meta-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    hosts = Path("/etc/netns") / name / "hosts"
    listener: subprocess.Popen[bytes] | None = None
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        for address in (METADATA, PRIVATE):
            _ip("-n", name, "addr", "add", f"{address}/32", "dev", "lo")
        hosts.parent.mkdir(parents=True, exist_ok=True)
        hosts.write_text(f"127.0.0.1 localhost\n{METADATA} {NAME}\n")
        server = (
            "import socket,sys\n"
            "socks=[socket.create_server((a,80)) for a in sys.argv[1:]]\n"
            "print('ready',flush=True)\nimport time\ntime.sleep(3600)\n"
        )
        listener = subprocess.Popen(
            ["ip", "netns", "exec", name, "python3", "-c", server, METADATA, PRIVATE], stdout=subprocess.PIPE
        )
        assert listener.stdout is not None and listener.stdout.readline().strip() == b"ready"
        yield name
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(timeout=5)
            if listener.stdout is not None:
                listener.stdout.close()
        shutil.rmtree(hosts.parent, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


async def ask(ns: str, text: str, role: str, inventory: dict[str, str] | None = None) -> dict[str, Any]:
    command = {"text": text, "role": role, "inventory": inventory or {"web-01": "127.0.0.1"}}
    answer: dict[str, Any] = await run_in_netns(ns, command, script=PROBE)
    return answer


async def test_an_operator_scans_a_raw_private_address(metadata_ns: str) -> None:
    """The stand-in answers: what operators may do keeps working."""
    answer = await ask(metadata_ns, f"scan port 80 on {PRIVATE}", "operator")
    assert answer["outcome"] == "answer"
    assert answer["results"][0]["data"]["open"] == [80]


@pytest.mark.parametrize("address", [METADATA, PRIVATE, "10.0.0.1"])
async def test_a_viewer_may_not_scan_raw_addresses(metadata_ns: str, address: str) -> None:
    answer = await ask(metadata_ns, f"scan port 80 on {address}", "viewer")
    assert answer["outcome"] == "refused" and answer["results"] == []
    assert (
        "may target inventory hosts only" in answer["summary"] or "outside the networks" in answer["summary"]
    )
    assert "roles.viewer.addresses" in answer["summary"]


@pytest.mark.parametrize("address", [METADATA, "169.254.1.1", "fe80::1"])
async def test_nobody_reaches_link_local_or_metadata_unless_listed(metadata_ns: str, address: str) -> None:
    answer = await ask(metadata_ns, f"scan port 80 on {address}", "admin")
    assert answer["outcome"] == "refused" and answer["results"] == []
    assert "restricted range" in answer["summary"]
    assert "link-local" in answer["summary"] or "cloud-metadata" in answer["summary"]


async def test_a_name_that_resolves_to_metadata_is_refused_before_connecting(metadata_ns: str) -> None:
    """A host name passes the plan (it cannot be judged there); its address is checked before any probe."""
    answer = await ask(metadata_ns, f"scan port 80 on {NAME}", "operator")
    [result] = answer["results"]
    assert result["status"] == "failed" and result["data"] == {}
    assert f"resolves to {METADATA}" in result["error"] and "cloud-metadata" in result["error"]


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("::ffff:169.254.169.254", "cloud-metadata"),  # IPv4-mapped IPv6
        ("2852039166", "cloud-metadata"),  # what the resolver reads from a decimal, octal, hex
        ("0251.0376.0251.0376", "cloud-metadata"),
        ("0xa9.0xfe.0xa9.0xfe", "cloud-metadata"),
        ("169.254.43518", "cloud-metadata"),
        ("::169.254.169.254", "cloud-metadata"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "cloud-metadata"),  # NAT64
        ("0xa9fe0101", "link-local"),
        ("[fd00:ec2::254]", "cloud-metadata"),
        ("100.100.100.200", "cloud-metadata"),
        ("169.254.170.2", "cloud-metadata"),
        ("fe80::1%eth0", "link-local"),
    ],
)
def test_other_spellings_of_restricted_addresses_are_refused(address: str, rule: str) -> None:
    policy = Policy.default(build_registry())
    step = PlanStep(id="s1", tool="network.ping", args={"count": 1}, targets=(AssetRef.raw(address),))
    denial = policy.step_denial(step, Principal(subject="root", roles=frozenset({"admin"})))
    assert denial is not None and f"restricted range {rule}" in denial


def test_a_role_that_lists_a_restricted_range_reaches_it_and_only_it() -> None:
    raw = {"roles": {"cloud": {"grants": [{"tools": ["network.*"]}], "addresses": ["169.254.169.254/32"]}}}
    policy = Policy.from_mapping(raw, build_registry())
    cloud = Principal(subject="c", roles=frozenset({"cloud"}))

    def denial(address: str) -> str | None:
        step = PlanStep(id="s1", tool="network.ping", args={"count": 1}, targets=(AssetRef.raw(address),))
        return policy.step_denial(step, cloud)

    assert denial(METADATA) is None
    assert "outside the networks the cloud role may target" in (denial("169.254.169.1") or "")
    assert "outside the networks" in (denial("10.0.0.1") or "")
    wide = Policy.from_mapping(
        {**raw, "roles": {"cloud": {**raw["roles"]["cloud"], "addresses": ["0.0.0.0/0"]}}}
    )
    step = PlanStep(id="s1", tool="network.ping", targets=(AssetRef.raw(METADATA),))
    assert "restricted range cloud-metadata" in (wide.step_denial(step, cloud) or "")


def test_port_and_target_caps_per_role() -> None:
    registry = build_registry()
    policy = Policy.default(registry)
    hosts = tuple(AssetRef(name=f"web-{i:03d}", address="127.0.0.1") for i in range(60))
    every_port = {"ports": list(range(1, 65536))}
    scan = PlanStep(id="s1", tool="network.port_scan", args=every_port, targets=hosts[:1], risk=Risk.READ)
    viewer = Principal(subject="vic", roles=frozenset({"viewer"}))
    operator = Principal(subject="olga", roles=frozenset({"operator"}))
    denial = policy.step_denial(scan, viewer)
    assert denial is not None and "65535 probes" in denial and "limit of 4096" in denial
    assert policy.step_denial(scan, operator) is None  # one host, every port: an operator may
    wide = scan.model_copy(update={"targets": hosts[:2]})
    assert "131070 probes" in (policy.step_denial(wide, operator) or "")
    sweep = PlanStep(id="s1", tool="network.ping", args={"count": 1}, targets=hosts, risk=Risk.READ)
    assert "60 targets exceeds the viewer role's limit of 50" in (policy.step_denial(sweep, viewer) or "")
    assert policy.step_denial(sweep, operator) is None
