"""DNS and notification arguments as people write them: the nameserver asked ('ask ad-dc-1 for
...') is the lookup's target, record types including SRV ('srv' is no 'server' there), a bare
host name after the tool's word; a notification's channel from its own word ('send an email to
the dba team saying ...', 'page bob'), with the recipient and message read out."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import CAMPUS, OPERATOR, REFERENCE, only, planner_fixture

reference = planner_fixture(REFERENCE)
campus = planner_fixture(CAMPUS)


@pytest.mark.parametrize(
    ("text", "targets", "name", "record_type"),
    [
        ("ask win-dc-01 for the NS records of corp.example.org", ["win-dc-01"], "corp.example.org", "NS"),
        ("resolve shop.example.net against win-dc-01", ["win-dc-01"], "shop.example.net", "A"),
        ("look up the AAAA of v6.example.org via win-dc-01", ["win-dc-01"], "v6.example.org", "AAAA"),
        ("resolve shop.example.net", [], "shop.example.net", "A"),  # the bot's own resolver
        ("nslookup api-02", [], "api-02", "A"),  # an inventory name to look up, not a nameserver
        ("srv records for _kerberos._udp.corp.example.org", [], "_kerberos._udp.corp.example.org", "SRV"),
        ("dig SRV _imaps._tcp.example.net", [], "_imaps._tcp.example.net", "SRV"),
        ("dns intranet-gw", [], "intranet-gw", "A"),  # not a port scan of the DNS port
        ("resolve localhost", [], "localhost", "A"),
    ],
)
async def test_dns_lookups(
    reference: HybridPlanner, text: str, targets: list[str], name: str, record_type: str
) -> None:
    assert only(await reference.plan(text, OPERATOR)) == (
        "network.dns_lookup",
        targets,
        {"name": name, "record_type": record_type},
    )


async def test_the_nameserver_on_another_inventory(campus: HybridPlanner) -> None:
    tool, targets, args = only(await campus.plan("ask ad-dc-1 for the MX of campus.example.edu", OPERATOR))
    assert (tool, targets, args["record_type"]) == ("network.dns_lookup", ["ad-dc-1"], "MX")


async def test_a_later_lookup_does_not_ask_an_earlier_clause_s_host(reference: HybridPlanner) -> None:
    plan = await reference.plan("ping api-01 then resolve shop.example.net", OPERATOR)
    assert [(s.tool, s.target_names) for s in plan.steps] == [
        ("network.ping", ["api-01"]),
        ("network.dns_lookup", []),
    ]


@pytest.mark.parametrize(
    ("text", "channel", "to", "message"),
    [
        ("send an email to the storage team saying the array is rebuilt", "email", "storage team",
         "the array is rebuilt"),
        ("email the release managers saying 4.2 is out", "email", "release managers", "4.2 is out"),
        ("send an e-mail to facilities that the UPS test starts", "email", "facilities",
         "the UPS test starts"),
        ("page the night shift: db-02 is lagging", "sms", "night shift", "db-02 is lagging"),
        ("text carol that the window is closed", "sms", "carol", "the window is closed"),
        ("post in #netops that the core link flapped", "slack", "#netops", "the core link flapped"),
        ("send a webhook to https://hooks.example.org/ops saying rollout ok", "webhook", "https://hooks.example.org/ops",
         "rollout ok"),
    ],
)  # fmt: skip
async def test_the_channel_comes_from_its_own_word(
    reference: HybridPlanner, text: str, channel: str, to: str, message: str
) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args["channel"], args["to"], args["message"]) == (
        "communication.notify",
        channel,
        to,
        message,
    )


async def test_a_host_named_like_a_channel_word_is_a_host(campus: HybridPlanner) -> None:
    tool, targets, _ = only(await campus.plan("is mail-gw-01 reachable", OPERATOR))
    assert (tool, targets) == ("network.ping", ["mail-gw-01"])
