"""The scorer compares a port scan's ports by the ports they denote: a range written as
'8000-8003' is the list it expands to, '22,80,443' is [22, 80, 443], either side may be written
either way; other ports still differ and a protocol's name compares as written."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.evaluation import Case, PredictedStep, Prediction, ports_denoted, score

SCAN = "network.port_scan"


def judged(expected: Any, predicted: Any) -> list[str]:
    case = Case.model_validate(
        {"id": "p", "text": "t", "expect": {"steps": [{"tool": SCAN, "args": {"ports": expected}}]}}
    )
    step = PredictedStep(tool=SCAN, args={"ports": predicted}, targets=["web-01"])
    return score(case, Prediction(id="p", outcome="plan", steps=[step]))


@pytest.mark.parametrize(
    ("expected", "predicted"),
    [
        (["8000-8003"], [8000, 8001, 8002, 8003]),  # a range against its expansion
        ([8000, 8001, 8002, 8003], ["8000-8003"]),  # and the reverse
        ("8000-8003", [8000, 8001, "8002", 8003]),
        (["22,80,443"], [22, 80, 443]),  # a comma list in one string
        ([443, 22, 80], "22, 80,443"),
        ([22, "8000-8001"], [8001, 22, 8000]),  # a mix, in any order
        (["1-1024"], ["1-512", "513-1024"]),  # two ranges covering one
        ([5432], 5432),
    ],
)
def test_the_same_ports_written_differently_match(expected: Any, predicted: Any) -> None:
    assert judged(expected, predicted) == []


@pytest.mark.parametrize(
    ("expected", "predicted"),
    [
        (["8000-8003"], [8000, 8001, 8002]),  # one port short
        ([22, 80, 443], ["22-443"]),  # a range holds far more
        (["22,80"], [22, 8080]),
        (["https"], [443]),  # a protocol's name is not read as its port by the scorer
    ],
)
def test_other_ports_still_differ(expected: Any, predicted: Any) -> None:
    assert judged(expected, predicted) != []


def test_what_the_ports_denote() -> None:
    assert ports_denoted(["20-22", 80, "443,8443"]) == {20, 21, 22, 80, 443, 8443}
    assert ports_denoted("ssh") is None and ports_denoted([True]) is None
    assert ports_denoted("90-80") is None  # a reversed range is not read as ports


def test_only_the_ports_argument_is_read_as_ports() -> None:
    want = {"steps": [{"tool": "x.y", "args": {"count": "1-3"}}]}
    case = Case.model_validate({"id": "c", "text": "t", "expect": want})
    step = PredictedStep(tool="x.y", args={"count": [1, 2, 3]})
    assert score(case, Prediction(id="c", outcome="plan", steps=[step])) != []
