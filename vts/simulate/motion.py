"""How simulated vessels move: a plan is a sequence of timed legs, each giving the state at any time.

* `Transit`: along a polyline, speed changing smoothly between the speeds set at its points
  (uniform acceleration along each edge), course along the edge;
* `Hold`: stopped at a point: moored (still) or at anchor (swinging gently around the anchor
  under wind and tide, bow towards the anchor, speed over ground a few tenths of a knot at most);
* `Follow`: keeps station on another vessel (a tug on a ship's quarter, a pilot boat alongside);
* `Drift`: a disabled vessel set by wind and current, heading far off its course.

All times are UNIX seconds; positions are metres in the `World` frame.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vts.simulate.routes import angle_diff, bearing, densify, distance, offset

KN = 1852.0 / 3600.0
"""Metres per second in one knot."""

STATUS_UNDER_WAY = 0
STATUS_AT_ANCHOR = 1
STATUS_NOT_UNDER_COMMAND = 2
STATUS_MOORED = 5
STATUS_FISHING = 7
STATUS_SART_ACTIVE = 14
STATUS_UNDEFINED = 15


@dataclass(slots=True)
class Kin:
    """The true state of a vessel at one instant."""

    x: float
    y: float
    sog: float
    """knots"""
    cog: float
    heading: float
    status: int
    turning: bool = False


class Leg(Protocol):
    start: float
    end: float

    def at(self, t: float) -> Kin: ...


@dataclass(slots=True)
class Transit:
    """Along `points` with `speeds` (knots) at each point, starting at time `start`."""

    points: list[tuple[float, float]]
    speeds: list[float]
    start: float
    status: int = STATUS_UNDER_WAY
    heading_offset: float = 0.0
    end: float = field(init=False)
    _times: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            self.points = [self.points[0], self.points[0]]
            self.speeds = [0.0, 0.0]
        times = [self.start]
        for i in range(len(self.points) - 1):
            d = distance(self.points[i], self.points[i + 1])
            v = (self.speeds[i] + self.speeds[i + 1]) * KN / 2.0
            times.append(times[-1] + (d / v if v > 1e-6 else 0.0))
        self._times = times
        self.end = times[-1]

    def at(self, t: float) -> Kin:
        i = max(0, min(len(self._times) - 2, bisect.bisect_right(self._times, t) - 1))
        t0, t1 = self._times[i], self._times[i + 1]
        a, b = self.points[i], self.points[i + 1]
        v0, v1 = self.speeds[i] * KN, self.speeds[i + 1] * KN
        dur = t1 - t0
        tau = min(max(t - t0, 0.0), dur)
        if dur <= 0:
            s, v = 0.0, v0
        else:
            acc = (v1 - v0) / dur
            s = v0 * tau + 0.5 * acc * tau * tau
            v = v0 + acc * tau
        d = distance(a, b)
        f = s / d if d > 0 else 0.0
        cog = bearing(a, b)
        turning = False
        if i + 2 < len(self.points):
            turning = abs(angle_diff(cog, bearing(b, self.points[i + 2]))) > 4.0
        return Kin(
            x=a[0] + (b[0] - a[0]) * f,
            y=a[1] + (b[1] - a[1]) * f,
            sog=max(v / KN, 0.0),
            cog=cog,
            heading=(cog + self.heading_offset) % 360.0,
            status=self.status,
            turning=turning,
        )


@dataclass(slots=True)
class Hold:
    """Stopped at `point` from `start` to `end`: moored, or at anchor swinging around it."""

    point: tuple[float, float]
    start: float
    end: float
    status: int = STATUS_MOORED
    heading: float = 0.0
    """Moored: the ship's heading. At anchor: mean direction the bow points (into wind and tide)."""
    swing_radius_m: float = 0.0
    swing_amplitude_deg: float = 25.0
    swing_period_s: float = 2400.0
    phase: float = 0.0

    def at(self, t: float) -> Kin:
        if self.swing_radius_m <= 0:
            return Kin(self.point[0], self.point[1], 0.0, self.heading, self.heading, self.status)
        w = 2.0 * math.pi / self.swing_period_s
        ang = self.swing_amplitude_deg * math.sin(w * (t - self.start) + self.phase)
        hdg = (self.heading + ang) % 360.0
        # the ship lies downwind of its anchor, bow to the anchor
        pos = offset(self.point, hdg + 180.0, self.swing_radius_m)
        rate = math.radians(self.swing_amplitude_deg) * w * math.cos(w * (t - self.start) + self.phase)
        speed = abs(rate) * self.swing_radius_m / KN
        cog = (hdg + 90.0 if rate < 0 else hdg - 90.0) % 360.0
        return Kin(pos[0], pos[1], speed, cog, hdg, self.status)


class StateSource(Protocol):
    def at(self, t: float) -> Kin | None: ...


@dataclass(slots=True)
class Follow:
    """Station-keeping on another vessel: `ahead_m` along its heading, `starboard_m` to its right."""

    target: StateSource
    start: float
    end: float
    ahead_m: float
    starboard_m: float
    status: int = STATUS_UNDER_WAY
    fixed_bearing: float | None = None
    """If set, keep `starboard_m` metres off the vessel on this true bearing (a tug on a ship's
    seaward side while she berths) instead of the ship-relative offsets."""

    def at(self, t: float) -> Kin:
        k = self.target.at(t)
        if k is None:
            raise ValueError("followed vessel has no state at this time")
        if self.fixed_bearing is not None:
            p = offset((k.x, k.y), self.fixed_bearing, self.starboard_m)
            return Kin(p[0], p[1], k.sog, k.cog, k.heading, self.status)
        p = offset((k.x, k.y), k.heading, self.ahead_m)
        p = offset(p, k.heading + 90.0, self.starboard_m)
        return Kin(p[0], p[1], k.sog, k.cog, k.heading, self.status)


@dataclass(slots=True)
class Drift:
    """Set by wind and current from `point`: slow, course `set_deg`, heading far off the course."""

    point: tuple[float, float]
    start: float
    end: float
    speed_kn: float
    set_deg: float
    heading: float
    status: int = STATUS_NOT_UNDER_COMMAND

    def at(self, t: float) -> Kin:
        p = offset(self.point, self.set_deg, self.speed_kn * KN * (t - self.start))
        return Kin(p[0], p[1], self.speed_kn, self.set_deg, self.heading, self.status)


@dataclass(slots=True)
class Plan:
    """A vessel's legs in time order; no state outside them (not yet arrived, or gone)."""

    legs: list[Leg] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.legs[0].start

    @property
    def end(self) -> float:
        return self.legs[-1].end

    def add(self, leg: Leg) -> Leg:
        self.legs.append(leg)
        return leg

    def at(self, t: float) -> Kin | None:
        if not self.legs or t < self.legs[0].start or t > self.legs[-1].end:
            return None
        starts = [leg.start for leg in self.legs]
        i = max(0, bisect.bisect_right(starts, t) - 1)
        leg = self.legs[i]
        if t > leg.end and i + 1 < len(self.legs):
            # between legs (should not happen with contiguous legs): hold the last state
            return leg.at(leg.end)
        return leg.at(min(t, leg.end))

    def shifted(self, dt: float) -> None:
        """Move the whole plan `dt` seconds later."""
        for leg in self.legs:
            leg.start += dt
            leg.end += dt
            if isinstance(leg, Transit):
                leg._times = [x + dt for x in leg._times]


def speed_profile(
    path: Sequence[tuple[float, float]],
    cruise_kn: float,
    caps: Sequence[float],
    *,
    start_kn: float,
    end_kn: float,
    accel: float = 0.02,
) -> list[float]:
    """Speeds (kn) at each point: at most `cruise_kn` and `caps[i]`, changing at most `accel` m/s²."""
    n = len(path)
    v = [min(cruise_kn, caps[i]) * KN for i in range(n)]
    v[0] = min(v[0], start_kn * KN)
    v[-1] = min(v[-1], end_kn * KN)
    for i in range(1, n):  # forward: acceleration limit
        d = distance(path[i - 1], path[i])
        v[i] = min(v[i], math.sqrt(v[i - 1] ** 2 + 2 * accel * d))
    for i in range(n - 2, -1, -1):  # backward: deceleration limit
        d = distance(path[i], path[i + 1])
        v[i] = min(v[i], math.sqrt(v[i + 1] ** 2 + 2 * accel * d))
    floor = 0.4 * KN
    out = [max(x, floor) / KN for x in v]
    out[0] = max(v[0], 0.0) / KN if start_kn <= 0 else out[0]
    out[-1] = max(v[-1], 0.0) / KN if end_kn <= 0 else out[-1]
    return out


def make_transit(
    path: Sequence[tuple[float, float]],
    start: float,
    cruise_kn: float,
    cap_at: CapFunction,
    *,
    start_kn: float,
    end_kn: float,
    accel: float = 0.02,
    step_m: float = 150.0,
    status: int = STATUS_UNDER_WAY,
) -> Transit:
    pts = densify(path, step_m)
    caps = [cap_at(p) for p in pts]
    speeds = speed_profile(pts, cruise_kn, caps, start_kn=start_kn, end_kn=end_kn, accel=accel)
    return Transit(points=pts, speeds=speeds, start=start, status=status)


class CapFunction(Protocol):
    def __call__(self, p: tuple[float, float]) -> float: ...
