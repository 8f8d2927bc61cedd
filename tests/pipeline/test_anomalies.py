"""Rolling baselines (median + MAD over 7 days) on synthetic series with known anomalies and
known non-anomalies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pipeline import anomalies
from pipeline.history import Kind, Sample

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def series(values: list[float], step: timedelta = timedelta(minutes=30)) -> list[Sample]:
    return [Sample(T0 + i * step, v) for i, v in enumerate(values)]


def noisy(n: int, level: float, spread: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, spread) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_noisy_series_is_never_flagged(seed: int) -> None:
    values = noisy(2000, 2.0, 0.15, seed)  # six weeks of half-hourly pings around 2 ms
    assert anomalies.scan("latency", "db-01", series(values)) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_heavy_tailed_but_steady_series_is_not_flagged(seed: int) -> None:
    rng = random.Random(seed)
    values = [20.0 + rng.expovariate(1 / 1.5) for _ in range(1500)]  # jittery WAN link
    assert anomalies.scan("latency", "fra-01", series(values)) == []


def test_a_spike_is_flagged_once_with_its_ratio() -> None:
    values = noisy(400, 2.0, 0.1, 1)
    values[300] = 12.3
    found = anomalies.scan("latency", "db-01", series(values))
    assert [a.sample.value for a in found] == [12.3]
    assert found[0].describe().startswith("latency to db-01 is 6.")
    assert "x its 7-day median" in found[0].describe()


def test_the_newest_sample_is_judged_against_the_week_before_it() -> None:
    history = series([*noisy(336, 2.0, 0.1, 2), 13.0])
    flag = anomalies.latest("latency", "db-01", history)
    assert flag is not None and 6.0 < flag.sample.value / flag.baseline.median < 7.0
    assert anomalies.latest("latency", "db-01", history[:-1]) is None


def test_a_level_shift_is_flagged_then_becomes_the_new_normal() -> None:
    values = noisy(400, 2.0, 0.1, 3) + noisy(400, 8.0, 0.1, 4)  # 30-minute samples: a week = 336
    found = anomalies.scan("latency", "db-01", series(values))
    assert found and found[0].sample.at == T0 + 400 * timedelta(minutes=30)
    assert found[-1].sample.at < T0 + 800 * timedelta(minutes=30)  # the new level is normal later


def test_lower_latency_is_not_an_anomaly_but_fewer_open_ports_is() -> None:
    assert anomalies.latest("latency", "db-01", series([*noisy(50, 10.0, 0.2, 5), 0.5])) is None
    ports = series([3.0] * 50 + [1.0])
    flag = anomalies.latest("open_ports", "web-01", ports)
    assert flag is not None and flag.describe() == "web-01 has 1 open ports against a 7-day median of 3"
    assert anomalies.latest("open_ports", "web-01", series([3.0] * 50 + [9.0])) is not None


@pytest.mark.parametrize(
    ("kind", "steady", "new", "flagged"),
    [
        ("disk", 60.0, 61.5, False),  # a flat series moving by a hair
        ("disk", 60.0, 93.0, True),
        ("loss", 0.0, 3.0, False),
        ("loss", 0.0, 40.0, True),
        ("service", 1.0, 0.0, True),  # a service that was always up is down
        ("service", 0.0, 1.0, False),
        ("latency", 0.05, 0.08, False),  # loopback noise: below the absolute floor
    ],
)
def test_flat_series_flag_only_real_changes(kind: Kind, steady: float, new: float, flagged: bool) -> None:
    history = series([steady] * 30 + [new])
    assert (anomalies.latest(kind, "h", history) is not None) is flagged


def test_too_short_a_history_is_not_judged() -> None:
    assert anomalies.latest("latency", "db-01", series([2.0] * (anomalies.MIN_SAMPLES - 1) + [50.0])) is None
    assert anomalies.latest("latency", "db-01", series([2.0] * anomalies.MIN_SAMPLES + [50.0])) is not None


def test_samples_older_than_the_window_do_not_count() -> None:
    old = [Sample(T0 - timedelta(days=30) + i * timedelta(hours=1), 2.0) for i in range(100)]
    assert anomalies.latest("latency", "db-01", [*old, Sample(T0, 50.0)]) is None  # no recent baseline


def test_a_result_joins_series_by_the_shape_of_its_data() -> None:
    assert anomalies.kinds_of({"rtt_avg_ms": 0.4, "loss_pct": 0}) == ["latency"]
    assert anomalies.kinds_of({"rtt_avg_ms": None}) == []
    assert anomalies.kinds_of({"open": [22], "disk": [{"use_percent": 5}]}) == ["open_ports", "disk"]
