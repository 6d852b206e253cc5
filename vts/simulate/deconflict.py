"""Keeps the normal traffic clear of the alert rules, the way a port's traffic control does.

Real traffic in a port is scheduled: one ship at a time in the channel, ships meet clear of each
other, boats do not sit next to each other at sea. The simulator adds vessel movements one at a
time; each candidate is sampled against everything already accepted and refused (then retried
later) when it would bring two vessels into a situation the detectors rightly flag:

* a close-quarters situation: both over 0.8 kn, closest point of approach under 0.5 NM within 15
  minutes (the `cpa` rule warns at 0.3 NM within 10 minutes);
* two vessels within 260 m of each other, both under 3.5 kn, for 2 minutes or more, unless both
  are at berths or one is an allow-listed tug, pilot or coastguard vessel (`alongside`,
  `rendezvous`);

Incidents declare the pairs they are meant to bring together; those pairs are exempt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import unary_union

from vts.simulate.motion import KN
from vts.simulate.vessels import SimVessel
from vts.simulate.world import World

STEP_S = 15.0
CPA_LIMIT_M = 0.5 * 1852.0
TCPA_LIMIT_S = 15 * 60.0
CPA_RANGE_M = 3.0 * 1852.0
CPA_MIN_SOG = 0.8
CLOSE_M = 260.0
CLOSE_MAX_SOG = 3.5
CLOSE_MIN_SAMPLES = int(120 / STEP_S)


@dataclass(slots=True)
class Track:
    mmsi: int
    first: int
    """Index of the first sample."""
    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    sog: np.ndarray
    at_berth: np.ndarray
    service: bool
    """An allow-listed tug, pilot or coastguard vessel."""


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str
    mmsi: int
    other_mmsi: int
    time: float


class Deconflictor:
    def __init__(self, world: World, t0: float, t1: float, *, enabled: bool = True) -> None:
        self.world = world
        self.enabled = enabled
        self.t0 = t0
        self.n = int((t1 - t0) // STEP_S) + 1
        self.tracks: list[Track] = []
        berths = [z.geometry for z in world.zones.values() if z.kind in ("berth", "fishing_dock")]
        self._berths = unary_union(berths) if berths else None
        if self._berths is not None:
            shapely.prepare(self._berths)
        self._service = (
            set(world.allowlists.tug) | set(world.allowlists.pilot) | set(world.allowlists.coastguard)
        )

    def sample(self, v: SimVessel) -> Track | None:
        first = max(0, int(np.ceil((v.start - self.t0) / STEP_S)))
        last = min(self.n - 1, int((v.end - self.t0) // STEP_S))
        if last < first:
            return None
        m = last - first + 1
        x = np.full(m, np.nan)
        y = np.full(m, np.nan)
        vx = np.zeros(m)
        vy = np.zeros(m)
        sog = np.zeros(m)
        for i in range(m):
            k = v.kin(self.t0 + (first + i) * STEP_S)
            if k is None:
                continue
            x[i], y[i], sog[i] = k.x, k.y, k.sog
            r = np.radians(k.cog)
            vx[i] = k.sog * KN * np.sin(r)
            vy[i] = k.sog * KN * np.cos(r)
        ok = ~np.isnan(x)
        at_berth = np.zeros(m, dtype=bool)
        if self._berths is not None and ok.any():
            at_berth[ok] = shapely.contains_xy(self._berths, x[ok], y[ok])
        return Track(v.mmsi, first, x, y, vx, vy, sog, at_berth, v.mmsi in self._service)

    def conflicts(
        self, group: list[SimVessel], exempt: set[frozenset[int]] | None = None, *, first_only: bool = True
    ) -> list[Conflict]:
        """Conflicts of the candidate vessels with the accepted ones and among themselves."""
        if not self.enabled:
            return []
        exempt = exempt or set()
        cand = [t for t in (self.sample(v) for v in group) if t is not None]
        found: list[Conflict] = []
        for i, a in enumerate(cand):
            for b in self.tracks + cand[i + 1 :]:
                if a.mmsi == b.mmsi or frozenset((a.mmsi, b.mmsi)) in exempt:
                    continue
                c = self._pair(a, b)
                if c is not None:
                    found.append(c)
                    if first_only:
                        return found
        return found

    def accept(self, group: list[SimVessel]) -> None:
        if not self.enabled:
            return
        for v in group:
            t = self.sample(v)
            if t is not None:
                self.tracks.append(t)

    def _pair(self, a: Track, b: Track) -> Conflict | None:
        lo = max(a.first, b.first)
        hi = min(a.first + len(a.x), b.first + len(b.x))
        if hi <= lo:
            return None
        sa = slice(lo - a.first, hi - a.first)
        sb = slice(lo - b.first, hi - b.first)
        dx = b.x[sb] - a.x[sa]
        dy = b.y[sb] - a.y[sa]
        with np.errstate(invalid="ignore"):
            d = np.hypot(dx, dy)
            valid = ~np.isnan(d)
            if not valid.any() or np.nanmin(d) > CPA_RANGE_M:
                return None
            # close-quarters
            both_moving = (a.sog[sa] >= CPA_MIN_SOG) & (b.sog[sb] >= CPA_MIN_SOG) & valid & (d < CPA_RANGE_M)
            if both_moving.any() and not (a.service and b.service):
                wx = b.vx[sb] - a.vx[sa]
                wy = b.vy[sb] - a.vy[sa]
                w2 = wx * wx + wy * wy
                tcpa = np.where(w2 > 1e-9, -(dx * wx + dy * wy) / np.maximum(w2, 1e-9), 0.0)
                cx = dx + wx * tcpa
                cy = dy + wy * tcpa
                dcpa = np.hypot(cx, cy)
                bad = both_moving & (tcpa > 0) & (tcpa < TCPA_LIMIT_S) & (dcpa < CPA_LIMIT_M)
                bad |= both_moving & (d < CPA_LIMIT_M * 0.7)
                if bad.any():
                    k = int(np.argmax(bad))
                    return Conflict("cpa", a.mmsi, b.mmsi, self.t0 + (lo + k) * STEP_S)
            # close and slow for a while
            if a.service or b.service:
                return None
            close = valid & (d < CLOSE_M) & (a.sog[sa] < CLOSE_MAX_SOG) & (b.sog[sb] < CLOSE_MAX_SOG)
            close &= ~(a.at_berth[sa] & b.at_berth[sb])
        if close.sum() >= CLOSE_MIN_SAMPLES:
            run = 0
            for k, c in enumerate(close):
                run = run + 1 if c else 0
                if run >= CLOSE_MIN_SAMPLES:
                    return Conflict("close", a.mmsi, b.mmsi, self.t0 + (lo + k) * STEP_S)
        return None
