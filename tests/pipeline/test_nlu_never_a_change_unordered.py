"""Property: a message that is not an order never plans a change.

Questions, requests for advice, hypotheticals, questions about the past, narrated changes, reports
of trouble, changes only considered before a question, general questions, negated changes and social
talk are built from templates x change verbs x (service, host) pairs of two inventories (the
reference one and another company's); every one of them is planned with the shipped packs loaded,
and none may hold a write or critical step or wait for an approval; the same holds for follow-ups
that refer back to an earlier message of the thread. (The templates are ours: no eval sentence is
among them.)
"""

from __future__ import annotations

import itertools

import pytest

from adapters.cache.inprocess import InProcessCache
from bot.evaluation import load_directory
from pipeline.contracts import Risk
from pipeline.conversation import Conversations
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from tests.pipeline.planning import BLIND2, OPERATOR, REFERENCE, catalog, planner_on

INVENTORIES = {"reference": REFERENCE, "other": BLIND2}

# (base, past, gerund) of the change verbs people use for services
VERBS = [
    ("restart", "restarted", "restarting"),
    ("stop", "stopped", "stopping"),
    ("bounce", "bounced", "bouncing"),
    ("kill", "killed", "killing"),
]
SERVICE_TEMPLATES = [
    # advice
    "should I {verb} {svc} on {host}?",
    "should we {verb} {svc} on {host} now or wait?",
    "would {ing} {svc} on {host} help?",
    "is it safe to {verb} {svc} on {host} during business hours?",
    "do we need to {verb} {svc} on {host}?",
    "is it worth {ing} {svc} on {host}?",
    "can I {verb} {svc} on {host} without an outage?",
    # hypotheticals
    "what would happen if I {past} {svc} on {host}?",
    "what if we {past} {svc} on {host} right now",
    "hypothetically, what does {ing} {svc} on {host} break?",
    "if someone {past} {svc} on {host}, would users notice?",
    # the past, and narrated changes followed by a question
    "did anyone {verb} {svc} on {host} today?",
    "who {past} {svc} on {host}?",
    "was {svc} on {host} {past} last night?",
    "someone {past} {svc} on {host} earlier, is it ok now?",
    "I {past} {svc} on {host} an hour ago - is it up?",
    "we {past} {svc} on {host} this morning; did it come back?",
    # general questions about a kind of thing, no host meant
    "would {ing} {svc} lose data?",
    "is it generally ok to {verb} {svc} during the day?",
    # a change only considered, then a question about its host
    "before I {verb} {svc} on {host}, how much memory is the box using?",
    "thinking about {ing} {svc} on {host}; is the box up?",
    "we might {verb} {svc} on {host} later - what's the disk usage there?",
    # the person's own device
    "{host} times out from my laptop, is {svc} up there?",
    # questions about what happens
    "is {svc} on {host} {ing} right now?",
    "why does {svc} keep {ing} on {host}?",
    "how do I {verb} {svc} on {host}?",
    # negations
    "don't {verb} {svc} on {host}, just check it",
    "please do not {verb} {svc} on {host}; show me its status",
    "no need to {verb} {svc} on {host}, only look at it",
    # reports of trouble
    "{svc} on {host} keeps {ing} by itself",
    "{svc} on {host} seems down, customers getting 502s",
    "{svc} on {host} is broken, we are getting errors",
    "{svc} on {host} looks dead, users see 503s",
]
HOST_TEMPLATES = [
    "should I reboot {host}?",
    "would a reboot help {host}?",
    "is a reboot of {host} a good idea?",
    "what happens if we reboot {host}?",
    "was {host} rebooted over the weekend?",
    "someone rebooted {host} ten minutes ago, is it back?",
    "don't reboot {host}, just ping it",
    "{host} has gone dark",
    "{host} dropped off the network",
    "{host} keeps rebooting on its own",
    "can you have a look at {host}",
    "before we reboot {host} - how long has it been up?",
    "planning to reboot {host} tonight, is it reachable?",
    "is it generally a good idea to reboot a server like {host} at noon?",
    "can't reach {host} from my machine, is it down?",
]
SOCIAL = ["anyone up for lunch?", "thanks all, incident closed", "good morning team", "great work everyone"]


async def _messages(inventory: str) -> list[str]:
    """Every template with every verb, over four (service, host) pairs and four hosts spread over
    the inventory."""
    snapshot = await load_directory(INVENTORIES[inventory]).snapshot()
    served = [(a.services[0], a.name) for a in snapshot if a.services][::3][:4]
    hosts = [a.name for a in snapshot][::4][:4]
    texts = [
        template.format(verb=verb, past=past, ing=ing, svc=svc, host=host)
        for template, (verb, past, ing), (svc, host) in itertools.product(SERVICE_TEMPLATES, VERBS, served)
    ]
    texts += [template.format(host=host) for template, host in itertools.product(HOST_TEMPLATES, hosts)]
    return texts + SOCIAL


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
async def test_no_message_that_is_not_an_order_plans_a_change(inventory: str) -> None:
    registry = catalog(packs=True)
    policy = Policy.default(registry)
    planner = planner_on(INVENTORIES[inventory], registry)
    texts = await _messages(inventory)
    assert len(texts) > 400
    changed: list[str] = []
    for text in texts:
        plan = policy.apply(await planner.plan(text, OPERATOR), OPERATOR)
        changes = [s.tool for s in plan.steps if s.risk is not Risk.READ and not s.check]
        if changes or plan.requires_approval:
            changed.append(f"{text!r} -> {plan.outcome} {changes}")
    assert changed == []


# after an earlier message of the same person in the same conversation (an unexecuted change
# order, or a read): the non-order refers back with 'it', 'that', 'them' or another host
EARLIER = ["{verb} {svc} on {host}", "check {svc} on {host}"]
FOLLOW_UPS = [
    "should I {verb} it?",
    "did anyone {verb} it today?",
    "what would happen if I {past} it?",
    "is it worth {ing} it?",
    "was it {past} last night?",
    "don't {verb} it, just check it",
    "actually no, cancel that, only check its status",
    "did that work?",
    "what about {other}?",
    "and on {other}?",
    "hypothetically, what does {ing} it break?",
]


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
async def test_no_follow_up_that_is_not_an_order_plans_a_change(inventory: str) -> None:
    registry = catalog(packs=True)
    policy = Policy.default(registry)
    conversations = Conversations(InProcessCache())
    planner = HybridPlanner(registry, load_directory(INVENTORIES[inventory]), conversations=conversations)
    snapshot = await load_directory(INVENTORIES[inventory]).snapshot()
    served = [(a.services[0], a.name) for a in snapshot if a.services][::3][:3]
    others = [a.name for a in snapshot if a.services][1::3]
    changed: list[str] = []
    threads = itertools.product(EARLIER, FOLLOW_UPS, VERBS, zip(served, others, strict=False))
    for number, (earlier, template, (verb, past, ing), ((svc, host), other)) in enumerate(threads):
        words = {"verb": verb, "past": past, "ing": ing, "svc": svc, "host": host, "other": other}
        first, then = earlier.format(**words), template.format(**words)
        await planner.plan(first, OPERATOR, f"thread:{number}")
        plan = policy.apply(await planner.plan(then, OPERATOR, f"thread:{number}"), OPERATOR)
        changes = [s.tool for s in plan.steps if s.risk is not Risk.READ and not s.check]
        if changes or plan.requires_approval:
            changed.append(f"{first!r} / {then!r} -> {plan.outcome} {changes}")
    assert number > 200 and changed == []
