"""FeedClocks: which feeds stamp arrival rather than the fix, judged on the spread of their lags."""

from __future__ import annotations

from vts.feed_clock import MIN_FIXES, WINDOW, FeedClocks

T0 = 1_768_496_400.0


def feed(clocks: FeedClocks, source: str, lags: list[float], t0: float = T0) -> None:
    """Fixes 10 s apart, each arriving `lag` seconds after it was taken."""
    for k, lag in enumerate(lags):
        taken = t0 + 10 * k
        clocks.observe(source, taken + lag, int(taken) % 60)


def scattered(n: int) -> list[float]:
    """Latencies of a satellite downlink: anywhere from seconds to most of an hour."""
    return [float((k * 1237) % 3000) for k in range(n)]


def test_a_terrestrial_feed_is_trusted_steady_lag_jitter_or_a_clock_set_wrong() -> None:
    clocks = FeedClocks()
    feed(clocks, "rx", [1.0] * 100)
    feed(clocks, "jitter", [float(k % 7) for k in range(100)])  # 0-6 s
    feed(clocks, "wrong_clock", [-25.0 + (k % 3) for k in range(100)])  # 25 s behind, steady
    assert not any(clocks.stamps_arrival(s) for s in ("rx", "jitter", "wrong_clock"))
    assert all(d["concentration"] > 0.9 for d in clocks.describe().values())


def test_a_satellite_feed_stamps_arrival_once_it_has_enough_fixes() -> None:
    clocks = FeedClocks()
    feed(clocks, "sat", scattered(MIN_FIXES - 1))
    assert not clocks.stamps_arrival("sat")  # too few fixes to judge
    feed(clocks, "sat", scattered(MIN_FIXES + 20), t0=T0 + 3600)
    assert clocks.stamps_arrival("sat") and not clocks.stamps_arrival("rx")  # feeds are apart
    assert clocks.describe()["sat"]["concentration"] < 0.6


def test_half_the_fixes_late_is_arrival_stamping_and_the_verdict_has_hysteresis() -> None:
    clocks = FeedClocks()
    mixed = [0.0 if k % 2 else lag for k, lag in enumerate(scattered(WINDOW))]  # as exactEarth
    feed(clocks, "mix", mixed)
    assert clocks.stamps_arrival("mix")
    # a quarter of the window prompt again: the concentration rises above the "on" threshold, the
    # verdict stays; a whole window of prompt fixes ends it
    feed(clocks, "mix", [0.0] * (WINDOW // 4), t0=T0 + 10 * WINDOW)
    d = clocks.describe()["mix"]
    assert 0.6 < d["concentration"] < 0.75 and d["stamps_arrival"] is True
    feed(clocks, "mix", [0.0] * WINDOW, t0=T0 + 20 * WINDOW)
    assert not clocks.stamps_arrival("mix") and clocks.describe()["mix"]["fixes"] == WINDOW


def test_a_fix_without_a_usable_time_or_second_is_not_counted_and_spoils_nothing() -> None:
    clocks = FeedClocks()
    clocks.observe("sat", float("nan"), 10)
    clocks.observe("sat", float("inf"), 10)
    clocks.observe("sat", T0, 60)  # (60-63: not available; the decoder gives None, a caller may not)
    assert clocks.describe() == {}
    feed(clocks, "sat", scattered(MIN_FIXES + 20))
    assert clocks.stamps_arrival("sat") and clocks.describe()["sat"]["fixes"] == MIN_FIXES + 20
