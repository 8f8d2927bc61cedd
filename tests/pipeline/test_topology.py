"""Traceroutes merged into one path graph: shared hops, silent hops, unreached hosts, the slowest hop."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.topology import ORIGIN, Trace, TracedHop, merge

AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def trace(target: str, *hops: tuple[str | None, float | None], reached: bool = True) -> Trace:
    steps = [TracedHop(ttl, address, rtt) for ttl, (address, rtt) in enumerate(hops, start=1)]
    if reached:
        last = steps[-1]
        steps[-1] = TracedHop(last.ttl, last.address, last.rtt_ms, "destination")
    return Trace(target, hops[-1][0] or "", AT, tuple(steps))


LONDON = [
    trace("web-03", ("10.0.0.1", 0.4), ("10.1.0.1", 1.1), ("172.16.0.1", 39.5), ("192.0.2.13", 40.1)),
    trace(
        "api-02",
        ("10.0.0.1", 0.6), ("10.1.0.1", 1.0), ("172.16.0.1", 38.9), (None, None), ("192.0.2.22", 41.0),
    ),
    trace("db-02", ("10.0.0.1", 0.3), ("10.1.0.9", 2.0), (None, None), reached=False),
]  # fmt: skip


def test_paths_meet_where_they_pass_the_same_router() -> None:
    graph = merge(LONDON)
    links = {(link.a, link.b): link for link in graph.links}
    assert links[(ORIGIN, "10.0.0.1")].targets == ("api-02", "db-02", "web-03")
    assert set(links[("10.1.0.1", "172.16.0.1")].targets) == {"api-02", "web-03"}
    assert {(s.a, s.b) for s in graph.shared()} == {("10.0.0.1", "10.1.0.1"), ("10.1.0.1", "172.16.0.1")}
    assert graph.nodes["10.0.0.1"].rtt_ms == 0.4  # the median of the three round trips
    assert graph.nodes["target:web-03"].kind == "target"


def test_the_slowest_hop_is_the_one_adding_the_most_round_trip() -> None:
    graph = merge(LONDON)
    slowest = graph.slowest()
    assert slowest is not None
    assert (slowest.a, slowest.b) == ("10.1.0.1", "172.16.0.1")
    assert slowest.added_ms == 38.15  # median of 38.4 (web-03) and 37.9 (api-02)
    assert [(j.a, j.b) for j in graph.jumps()] == [("10.1.0.1", "172.16.0.1")]


def test_a_silent_hop_is_its_own_paths_and_the_next_answer_carries_the_gap() -> None:
    graph = merge(LONDON)
    links = {(link.a, link.b): link for link in graph.links}
    assert graph.nodes["*:api-02:4"].kind == "silent"
    assert links[("172.16.0.1", "*:api-02:4")].added_ms is None
    assert links[("*:api-02:4", "target:api-02")].added_ms == 2.1  # 41.0 - 38.9, across the silent hop


def test_an_unreached_host_ends_its_path_in_a_marked_node() -> None:
    graph = merge(LONDON)
    assert [t.target for t in graph.traces if not t.reached] == ["db-02"]
    assert graph.nodes["unreached:db-02"].kind == "unreached"
    assert any(link.b == "unreached:db-02" and link.a == "*:db-02:3" for link in graph.links)


def test_no_jump_on_a_flat_path_and_no_slowest_hop_without_answers() -> None:
    flat = merge([trace("web-01", ("10.0.0.1", 0.3), ("10.0.0.2", 0.5), ("192.0.2.11", 0.6))])
    assert flat.jumps() == []
    silent = merge([trace("web-02", (None, None), (None, None), reached=False)])
    assert silent.slowest() is None
