"""cpa: two vessels on course for a close-quarters situation (closest point of approach).

Candidate pairs: both vessels over `min_sog_kn` (1 kn) with a known course, within `range_nm`
(3 NM) of each other, neither at anchor or moored (by status; a vessel over 1 kn is not moored by
speed), and not an assist pair (a tug or pilot, by
allow-list or by its declared type, with the ship it serves). Candidate pairs come from a uniform spatial
grid built in numpy over the moving vessels (`candidate_pairs`: cells of the range's size, each
vessel joined with its own and the eight neighbouring cells by sorting and `searchsorted`); CPA and
TCPA are then computed with numpy for all candidate pairs at once. There is no Python loop over
vessels or pairs, only over the pairs that alert. Positions are dead-reckoned to the current
event time from each vessel's last fix (at most `max_fix_age_s` old).

Severity `warning` when CPA < 0.3 NM within 10 minutes, `alarm` when CPA < 0.1 NM within 5 minutes
(0 < TCPA). Pairs whose relative speed is under `min_relative_kn` (vessels in company, a tow) have
no meaningful CPA and are left out. State alert per pair (mmsi = the lower MMSI); it is updated
while the situation holds (severity may rise or fall) and cleared once the ships have passed (TCPA
below zero) or the predicted CPA opens beyond `clear_factor` x the warning distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from vts.alerts.model import Severity
from vts.geo import KNOTS_TO_MS, METRES_PER_NM
from vts.rules._common import is_allowlisted
from vts.rules.base import Rule, RuleContext, RuleParams

if TYPE_CHECKING:
    from vts.reports import PositionReport
    from vts.tracker import VesselState

ASSIST_CATEGORIES = frozenset({"tug", "pilot"})
AT_ANCHOR_OR_MOORED = (1, 5)
UNDERWAY_DESPITE_STATUS_KN = 3.0
"""A ship showing "at anchor"/"moored" above this speed forgot its status (as `vts.vessel_class`)."""


class CpaParams(RuleParams):
    range_nm: float = Field(3.0, gt=0, description="pairs further apart than this are not evaluated")
    min_sog_kn: float = Field(1.0, ge=0, description="both vessels must be faster than this")
    warning_cpa_nm: float = Field(0.3, gt=0)
    warning_tcpa_min: float = Field(10.0, gt=0)
    alarm_cpa_nm: float = Field(0.1, gt=0)
    alarm_tcpa_min: float = Field(5.0, gt=0)
    min_relative_kn: float = Field(1.0, ge=0, description="slower relative motion has no meaningful CPA")
    max_fix_age_s: float = Field(180.0, gt=0, description="vessels with an older last fix are left out")
    clear_factor: float = Field(1.2, ge=1.0, description="hysteresis on the warning CPA before clearing")
    skip_assist_categories: bool = Field(
        True, description="treat declared tugs and pilot boats as assist craft"
    )


@dataclass(slots=True)
class PairCpa:
    """CPA result for one pair (arrays of these come out of `compute_cpa`)."""

    range_m: float
    cpa_m: float
    tcpa_s: float


def compute_cpa(
    x: np.ndarray,
    y: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    min_rel_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Range, CPA (metres) and TCPA (seconds) for pairs (i[k], j[k]), all at once.

    Positions in metres, velocities in m/s. Pairs whose relative speed is under `min_rel_ms` get
    TCPA = +inf and CPA = the current range.
    """
    dx = x[j] - x[i]
    dy = y[j] - y[i]
    dvx = vx[j] - vx[i]
    dvy = vy[j] - vy[i]
    rng = np.hypot(dx, dy)
    dv2 = dvx * dvx + dvy * dvy
    moving = dv2 >= min_rel_ms * min_rel_ms
    safe = np.where(moving, dv2, 1.0)
    tcpa = np.where(moving, -(dx * dvx + dy * dvy) / safe, np.inf)
    t = np.where(moving, tcpa, 0.0)
    cpa = np.hypot(dx + dvx * t, dy + dvy * t)
    return rng, cpa, tcpa


def candidate_pairs(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of points within `radius` metres of each other, found with a uniform
    grid of `radius`-sized cells: each point is joined with the points of its own and the eight
    neighbouring cells by sorting and `searchsorted`, all in numpy (no loop over points)."""
    n = len(x)
    if n < 2:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    cx = np.floor((x - x.min()) / radius).astype(np.int64)
    cy = np.floor((y - y.min()) / radius).astype(np.int64)
    width = int(cy.max()) + 3
    key = (cx + 1) * width + (cy + 1)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            target = key + dx * width + dy
            lo = np.searchsorted(sorted_key, target, side="left")
            hi = np.searchsorted(sorted_key, target, side="right")
            counts = hi - lo
            total = int(counts.sum())
            if total == 0:
                continue
            i = np.repeat(np.arange(n), counts)
            starts = np.repeat(lo, counts)
            within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            j = order[starts + within]
            keep = i < j
            out_i.append(i[keep])
            out_j.append(j[keep])
    i = np.concatenate(out_i) if out_i else np.empty(0, dtype=np.intp)
    j = np.concatenate(out_j) if out_j else np.empty(0, dtype=np.intp)
    close = np.hypot(x[j] - x[i], y[j] - y[i]) <= radius
    return i[close], j[close]


class CpaRule(Rule):
    id = "cpa"
    Params = CpaParams
    tick_seconds = 10.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: CpaParams = params  # type: ignore[assignment]
        self._active: set[tuple[int, int]] = set()
        self._alarms: set[tuple[int, int]] = set()
        """Pairs at alarm level: they stay there inside the hysteresis band (no flapping at 5 min)."""
        self._fresh: dict[int, None] | None = None
        """Vessels that may have a fix under `max_fix_age_s` old: every vessel given a fix since it
        was last found stale (a stale fix only gets older). The tick looks at these only."""

    def on_position(self, vessel: VesselState, report: PositionReport, ctx: RuleContext) -> None:
        fresh = self._fresh
        if fresh is not None:
            fresh[vessel.mmsi] = None

    def _movers(self, ctx: RuleContext) -> list[VesselState]:
        p = self.p
        out: list[VesselState] = []
        now, max_age = ctx.now, p.max_fix_age_s
        fresh = self._fresh
        if fresh is None:  # first tick (or a new rule instance): every tracked vessel
            fresh = self._fresh = {v.mmsi: None for v in ctx.tracker.vessels()}
        tracker = ctx.tracker
        for mmsi in list(fresh):
            v = tracker.get(mmsi)
            if v is None or v.position_time is None or now - v.position_time > max_age:
                del fresh[mmsi]
                continue
            if (
                v.is_shadow
                or v.lat is None
                or v.lon is None
                or v.sog is None
                or v.cog is None
                or v.sog <= p.min_sog_kn
                or (v.nav_status in AT_ANCHOR_OR_MOORED and v.sog < UNDERWAY_DESPITE_STATUS_KN)
            ):
                continue
            out.append(v)
        out.sort(key=lambda v: v.mmsi)
        return out

    def _is_assist(self, v: VesselState, ctx: RuleContext) -> bool:
        if is_allowlisted(ctx.allowlists, v.mmsi, ("tug", "pilot")):
            return True
        return self.p.skip_assist_categories and v.category in ASSIST_CATEGORIES

    def on_tick(self, ctx: RuleContext) -> None:
        p = self.p
        movers = self._movers(ctx)
        assist = np.array([self._is_assist(v, ctx) for v in movers], dtype=bool)
        pi: np.ndarray = np.empty(0, dtype=np.intp)
        pj: np.ndarray = np.empty(0, dtype=np.intp)
        if len(movers) >= 2:
            x, y, vx, vy = self._kinematics(movers, ctx.now)
            pi, pj = candidate_pairs(x, y, p.range_nm * METRES_PER_NM)
        seen: dict[tuple[int, int], tuple[Severity, dict[str, Any], VesselState, VesselState]] = {}
        if len(pi):
            keep = ~(assist[pi] | assist[pj])
            i, j = pi[keep], pj[keep]
            rng, cpa, tcpa = compute_cpa(x, y, vx, vy, i, j, p.min_relative_kn * KNOTS_TO_MS)
            clear_cpa = p.warning_cpa_nm * p.clear_factor * METRES_PER_NM
            candidate = (
                (rng <= p.range_nm * METRES_PER_NM) & (tcpa > 0) & np.isfinite(tcpa) & (cpa < clear_cpa)
            )
            for k in np.nonzero(candidate)[0]:
                a, b = movers[int(i[k])], movers[int(j[k])]
                key = (a.mmsi, b.mmsi)
                severity = self._severity(float(cpa[k]), float(tcpa[k]), key in self._alarms)
                if severity is None and key not in self._active:
                    continue
                if severity is None:
                    if float(tcpa[k]) > p.warning_tcpa_min * 60 * p.clear_factor:
                        continue  # situation opened up in time: let it clear
                    severity = "warning"  # inside the hysteresis band: keep the alert
                seen[key] = (
                    severity,
                    {
                        "cpa_nm": round(float(cpa[k]) / METRES_PER_NM, 3),
                        "tcpa_min": round(float(tcpa[k]) / 60.0, 2),
                        "range_nm": round(float(rng[k]) / METRES_PER_NM, 3),
                        "sog_kn": a.sog,
                        "other_sog_kn": b.sog,
                        "cog_deg": a.cog,
                        "other_cog_deg": b.cog,
                    },
                    a,
                    b,
                )
        for key, (severity, details, a, b) in sorted(seen.items()):
            self._active.add(key)
            if severity == "alarm":
                self._alarms.add(key)
            else:
                self._alarms.discard(key)
            ctx.alerts.hold(
                type=self.id,
                mmsi=key[0],
                other_mmsi=key[1],
                severity=severity,
                message=f"Close quarters: {a.name or a.mmsi} and {b.name or b.mmsi}, "
                f"CPA {details['cpa_nm']:.2f} NM in {details['tcpa_min']:.1f} min",
                lat=a.lat,
                lon=a.lon,
                details=details,
            )
        for key in sorted(self._active - set(seen)):
            self._active.discard(key)
            self._alarms.discard(key)
            ctx.alerts.clear(
                type=self.id, mmsi=key[0], other_mmsi=key[1], message="Close-quarters situation over"
            )

    def _severity(self, cpa_m: float, tcpa_s: float, was_alarm: bool = False) -> Severity | None:
        p = self.p
        f = p.clear_factor if was_alarm else 1.0
        if cpa_m < p.alarm_cpa_nm * METRES_PER_NM * f and 0 < tcpa_s <= p.alarm_tcpa_min * 60 * f:
            return "alarm"
        if cpa_m < p.warning_cpa_nm * METRES_PER_NM and 0 < tcpa_s <= p.warning_tcpa_min * 60:
            return "warning"
        return None

    @staticmethod
    def _kinematics(movers: list[VesselState], now: float) -> tuple[np.ndarray, ...]:
        # one pass over the vessels; each column copied out contiguous (same sums as separate arrays)
        cols = np.array([(v.lat, v.lon, v.sog, v.cog, v.position_time) for v in movers], dtype=float).T.copy()
        lat, lon = cols[0], cols[1]
        sog = cols[2] * KNOTS_TO_MS
        cog = np.radians(cols[3])
        age = np.clip(now - cols[4], 0.0, None)
        lat0 = float(np.mean(lat))
        ky = 6_371_008.8 * math.pi / 180.0
        kx = ky * math.cos(math.radians(lat0))
        vx, vy = sog * np.sin(cog), sog * np.cos(cog)
        x = lon * kx + vx * age
        y = lat * ky + vy * age
        return x, y, vx, vy

    def on_forget(self, mmsi: int) -> None:
        if self._fresh is not None:
            self._fresh.pop(mmsi, None)
        self._active = {k for k in self._active if mmsi not in k}
        self._alarms = {k for k in self._alarms if mmsi not in k}


RULE = CpaRule
