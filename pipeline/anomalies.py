"""Anomalies: a new measurement far outside its series' rolling baseline.

Baseline: the median and the median absolute deviation (MAD) of the samples in the
`BASELINE` window (7 days) before the sample judged, at least `MIN_SAMPLES` of them. Both
ignore outliers, unlike a mean and a standard deviation, so one earlier spike neither hides
the next one nor makes a normal value look odd.

A sample is anomalous when its robust z-score |x - median| / scale passes `Z_THRESHOLD`
in the direction that matters for its kind (latency, loss and disk only upward, a service
and throughput only downward, open ports either way), where

    scale = max(1.4826 * MAD, RELATIVE_FLOOR[kind] * |median|, ABSOLUTE_FLOOR[kind])

1.4826 * MAD estimates the standard deviation of normally distributed noise; the floors keep
a perfectly flat series (MAD = 0) from flagging a change of a hair (0.02 ms on loopback, one
percent of disk) while still flagging a real jump.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from pipeline.history import LABELS, Kind, Sample

BASELINE = timedelta(days=7)
MIN_SAMPLES = 8
Z_THRESHOLD = 6.0
RELATIVE_FLOOR: dict[Kind, float] = {
    "latency": 0.10,
    "loss": 0.0,
    "open_ports": 0.0,
    "disk": 0.0,
    "service": 0.0,
    "bandwidth": 0.10,
}
ABSOLUTE_FLOOR: dict[Kind, float] = {
    "latency": 0.5,
    "loss": 5.0,
    "open_ports": 0.25,
    "disk": 2.0,
    "service": 0.1,
    "bandwidth": 1.0,
}
DIRECTION: dict[Kind, int] = {
    "latency": 1,
    "loss": 1,
    "open_ports": 0,
    "disk": 1,
    "service": -1,
    "bandwidth": -1,
}


FIELDS: dict[Kind, str] = {
    "latency": "rtt_avg_ms",
    "open_ports": "open",
    "disk": "disk",
    "service": "active",
    "bandwidth": "mbps",
}
"""A result whose output data holds this field extends that series (by shape, not by tool)."""


def kinds_of(data: Mapping[str, object]) -> list[Kind]:
    """The series a fresh result belongs to."""
    return [kind for kind, field in FIELDS.items() if data.get(field) is not None]


@dataclass(frozen=True)
class Baseline:
    median: float
    mad: float
    count: int

    def scale(self, kind: Kind) -> float:
        return max(1.4826 * self.mad, RELATIVE_FLOOR[kind] * abs(self.median), ABSOLUTE_FLOOR[kind])


@dataclass(frozen=True)
class Anomaly:
    kind: Kind
    target: str
    sample: Sample
    baseline: Baseline
    score: float  # robust z-score, signed

    def describe(self) -> str:
        """'latency to db-01 is 6.0x its 7-day median (12.3 ms against 2.05 ms)'."""
        value, base = self.sample.value, self.baseline.median
        if self.kind == "latency" and base > 0:
            return (
                f"latency to {self.target} is {value / base:.1f}x its 7-day median "
                f"({value:.3g} ms against {base:.3g} ms)"
            )
        if self.kind == "service":
            state = "down" if value < 0.5 else "up"
            return f"the service on {self.target} is {state}, unlike the last 7 days"
        if self.kind == "open_ports":
            return f"{self.target} has {value:g} open ports against a 7-day median of {base:g}"
        if self.kind == "bandwidth":
            return f"throughput from {self.target} is {value:g} Mbit/s against a 7-day median of {base:g}"
        unit = "%"
        label = LABELS[self.kind]
        return f"{label} on {self.target} is {value:g}{unit} against a 7-day median of {base:g}{unit}"


def baseline(samples: Sequence[Sample]) -> Baseline | None:
    """Median and MAD of `samples`; None below `MIN_SAMPLES`."""
    if len(samples) < MIN_SAMPLES:
        return None
    values = [s.value for s in samples]
    middle = median(values)
    return Baseline(middle, median(abs(v - middle) for v in values), len(values))


def judge(kind: Kind, target: str, sample: Sample, base: Baseline) -> Anomaly | None:
    """The anomaly `sample` is against `base`, or None."""
    score = (sample.value - base.median) / base.scale(kind)
    direction = DIRECTION[kind]
    outside = abs(score) >= Z_THRESHOLD if direction == 0 else score * direction >= Z_THRESHOLD
    return Anomaly(kind, target, sample, base, score) if outside else None


def scan(kind: Kind, target: str, samples: Sequence[Sample]) -> list[Anomaly]:
    """Every sample judged against the `BASELINE` window of samples before it (oldest first)."""
    found: list[Anomaly] = []
    start = 0
    for i, sample in enumerate(samples):
        while samples[start].at < sample.at - BASELINE:
            start += 1
        base = baseline(samples[start:i])
        if base is None:
            continue
        anomaly = judge(kind, target, sample, base)
        if anomaly is not None:
            found.append(anomaly)
    return found


def latest(kind: Kind, target: str, samples: Sequence[Sample]) -> Anomaly | None:
    """The newest sample judged against the week before it (what a fresh result is checked with)."""
    if not samples:
        return None
    newest = samples[-1]
    before = [s for s in samples[:-1] if s.at >= newest.at - BASELINE]
    base = baseline(before)
    return judge(kind, target, newest, base) if base is not None else None
