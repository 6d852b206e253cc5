"""course_anomaly's `_possible_turns` against the plain form it had before its shortcuts (the
remainder of the courses only when one is out of range, the wrap of the deviations only when one
is over 180 degrees, the buckets rolled in place): the same fixes and the same table, on random
batches with courses missing, out of range and spread round the compass."""

from __future__ import annotations

import math

import numpy as np

from vts.rules.course_anomaly import (
    _DEFAULT,
    _HI0,
    _HI1,
    _HOT,
    _LO0,
    _LO1,
    _Q0,
    _Q1,
    _REF,
    _T,
    SLACK,
    TURN_WINDOW_S,
    CourseAnomalyParams,
    CourseAnomalyRule,
    _first_in_group,
)


def _reference(
    rule: CourseAnomalyRule,
    rec: np.ndarray,
    group: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    odd: np.ndarray,
    t: np.ndarray,
    sog: np.ndarray,
    cog: np.ndarray,
) -> np.ndarray:
    """`CourseAnomalyRule._possible_turns` as it was, taking the speeds (not the fixes under way)."""
    p = rule.p
    n_groups = len(starts)
    under_way = sog >= p.erratic_min_sog_kn
    under_way &= cog == cog
    if not under_way.any():
        return under_way
    if not (cog.min() >= 0.0 and cog.max() < 360.0):
        cog = np.where(under_way, cog % 360.0, 0.0)  # as angle_diff_deg sees it
    ref = rec[_REF]
    unset = np.isnan(ref)
    if unset.any():  # a vessel's first course under way is its reference
        first_uw = _first_in_group(under_way, group, n_groups)
        unset &= first_uw >= 0
        ref[unset] = cog[first_uw[unset]]
    r = cog - ref[group]
    if not np.abs(r).max() < 180.0:  # NaN (not under way) also takes this way
        r[r >= 180.0] -= 360.0
        r[r < -180.0] += 360.0
    r[~under_way] = np.nan
    # this batch's span per vessel (fmin/fmax skip the NaN of fixes not under way)
    if int((ends - starts).max()) <= 1:
        b_lo = np.fmin(r[starts], r[ends])
        b_hi = np.fmax(r[starts], r[ends])
    else:
        b_lo = np.fmin.reduceat(r, starts)
        b_hi = np.fmax.reduceat(r, starts)
    # with the buckets alive at each vessel's first fix of the batch
    q_min = np.floor((t[starts] - TURN_WINDOW_S) * (1.0 / TURN_WINDOW_S))
    dead0, dead1 = rec[_Q0] < q_min, rec[_Q1] < q_min
    lo = np.fmin(b_lo, np.fmin(np.where(dead0, np.nan, rec[_LO0]), np.where(dead1, np.nan, rec[_LO1])))
    hi = np.fmax(b_hi, np.fmax(np.where(dead0, np.nan, rec[_HI0]), np.where(dead1, np.nan, rec[_HI1])))
    turn = odd & under_way
    wide = hi - lo >= p.erratic_turn_deg - SLACK  # some fix of the vessel may be that far off a course
    hot = rec[_HOT]
    if wide.any() or (hot >= t[starts]).any():
        far = r - lo[group]
        np.fmax(far, hi[group] - r, out=far)
        turn |= far >= p.erratic_turn_deg - SLACK  # NaN (not under way) compares False
        turn |= (t <= hot[group]) & under_way
    # the table: this batch's span in a bucket of its newest fix's slot (at the latest), and every
    # span in degrees from the middle of this batch's span
    has = b_lo <= b_hi
    move = np.where(has, (b_lo + b_hi) * -0.5, 0.0)
    q = math.floor(float(np.fmax.reduce(t)) / TURN_WINDOW_S)
    roll = has & (rec[_Q1] < q)  # a later slot: the two old buckets merge under the newer label
    if roll.any():
        rec[_LO0, roll] = np.fmin(rec[_LO0, roll], rec[_LO1, roll])
        rec[_HI0, roll] = np.fmax(rec[_HI0, roll], rec[_HI1, roll])
        rec[_Q0, roll] = np.fmax(rec[_Q0, roll], rec[_Q1, roll])
        rec[_LO1, roll], rec[_HI1, roll], rec[_Q1, roll] = np.inf, -np.inf, q
    rec[_LO1] = np.fmin(rec[_LO1], b_lo)
    rec[_HI1] = np.fmax(rec[_HI1], b_hi)
    rec[_LO0 : _HI1 + 1] += move
    ref -= move
    ref %= 360.0
    rec[_REF] = ref
    late = turn & odd
    if late.any():
        marked = np.zeros(n_groups, dtype=bool)
        marked[group[late]] = True
        newest = np.fmax(np.fmax.reduceat(t, starts)[marked], rec[_T, marked])
        rec[_HOT, marked] = np.fmax(rec[_HOT, marked], newest + TURN_WINDOW_S + 1.0)
    return turn


def _batch(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Groups of fixes (sorted by vessel) and their table columns, as `_track_rows` hands them."""
    n_groups = int(rng.integers(1, 30))
    sizes = rng.integers(1, 6, n_groups) if rng.random() < 0.7 else np.ones(n_groups, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
    ends = (starts + sizes - 1).astype(np.intp)
    group = np.repeat(np.arange(n_groups), sizes).astype(np.intp)
    k = int(sizes.sum())
    t0 = 1_768_496_400.0 + float(rng.uniform(0, 3600))
    t = t0 + np.sort(rng.uniform(0, 50, k))
    sog = rng.choice([np.nan, 0.0, 2.0, 3.0, 8.0, 15.0], k)
    cog = rng.uniform(0, 360, k)
    cog[rng.random(k) < 0.2] = np.nan
    if rng.random() < 0.3:  # out of range: taken modulo 360
        cog[rng.random(k) < 0.2] = rng.choice([360.0, 400.0, -10.0, 719.5])
    if rng.random() < 0.3:  # round one course (deviations near 180 degrees)
        cog[rng.random(k) < 0.5] = rng.choice([0.0, 179.9, 180.0, 359.9])
    odd = rng.random(k) < 0.05
    rec = np.repeat(_DEFAULT, n_groups, axis=1)
    known = rng.random(n_groups) < 0.7
    rec[_REF, known] = rng.uniform(0, 360, int(known.sum()))
    slot = math.floor(t0 / TURN_WINDOW_S)
    rec[_Q0, known] = slot - rng.integers(0, 4, int(known.sum()))
    rec[_Q1, known] = np.maximum(rec[_Q0, known], slot - rng.integers(0, 2, int(known.sum())))
    for lo, hi in ((_LO0, _HI0), (_LO1, _HI1)):  # spans about the reference
        centre = rng.uniform(-40, 40, int(known.sum()))
        half = rng.uniform(0, 50, int(known.sum()))
        rec[lo, known], rec[hi, known] = centre - half, centre + half
    hot = rng.random(n_groups) < 0.1
    rec[_HOT, hot] = t0 + 20.0
    rec[_T, known] = t0 - 10.0
    return rec, group, starts, ends, odd, t, sog, cog


def test_possible_turns_as_the_plain_form() -> None:
    rule = CourseAnomalyRule(CourseAnomalyParams())
    rng = np.random.default_rng(7)
    for _ in range(3000):
        rec, group, starts, ends, odd, t, sog, cog = _batch(rng)
        expected_rec = rec.copy()
        with np.errstate(invalid="ignore"):
            expected = _reference(rule, expected_rec, group, starts, ends, odd, t, sog, cog.copy())
            under_way = (sog >= rule.p.erratic_min_sog_kn) & (cog == cog)
            got = rule._possible_turns(rec, group, starts, ends, odd, t, under_way, cog.copy())
        assert np.array_equal(got, expected)
        assert np.array_equal(rec, expected_rec, equal_nan=True)
