"""Bookkeeping for pairwise proximity rules (alongside, rendezvous): how long two vessels have
been close, observed on the reports of either, with no interpolation across reception gaps.

Slow Class B craft report only every 3 minutes, so a spell is seen on few fixes. When a spell
starts, the rule may date it back to the vessels' previous fixes (`previous_fix`, `since`) if they
were already close there and moved slowly in between (the interval is then bridged, as Global
Fishing Watch interpolates tracks between fixes) — never across more than `max_gap_s`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field

from vts.rules.base import RuleParams
from vts.spatial import approx_distance_m

if TYPE_CHECKING:
    from vts.rules.base import RuleContext
    from vts.tracker import Fix, VesselState

KNOT_MS = 1852.0 / 3600.0

PairKey = tuple[int, int]


class PairParams(RuleParams):
    """Parameters shared by the pairwise proximity rules (each sets its own distance and duration)."""

    distance_m: float = Field(150.0, gt=0, description="the two vessels within this distance")
    min_minutes: float = Field(3.0, ge=0, description="close for at least this long")
    max_speed_kn: float = Field(3.0, gt=0, description="both vessels under this SOG")
    clear_margin_m: float = Field(50.0, ge=0, description="hysteresis: clears beyond distance_m + this")
    max_gap_minutes: float = Field(
        7.0,
        gt=0,
        description="a longer silence of the pair restarts the spell (two 3-minute slow Class B "
        "intervals and slack: one lost message does not break it)",
    )
    lost_minutes: float = Field(10.0, gt=0, description="an alert clears when the pair is not seen this long")
    check_every_s: float = Field(
        10.0, ge=0, description="look at a slow vessel's neighbourhood at most this often (event time)"
    )


@dataclass(slots=True)
class Proximity:
    first: float
    """Event time the current close spell was first observed."""
    last: float
    """Latest event time the pair was observed close."""
    closest_m: float
    last_m: float
    extra: dict[str, Any] = field(default_factory=dict)

    def duration(self) -> float:
        return self.last - self.first


class PairWatch:
    """Close spells of vessel pairs. `observe_close` extends (or starts) a spell; a spell whose
    last close observation is older than `max_gap_s` restarts rather than bridging the gap."""

    def __init__(self, max_gap_s: float) -> None:
        self.max_gap_s = max_gap_s
        self._pairs: dict[PairKey, Proximity] = {}
        self._by_vessel: dict[int, set[PairKey]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def get(self, key: PairKey) -> Proximity | None:
        return self._pairs.get(key)

    def starts_spell(self, key: PairKey, now: float) -> bool:
        """Whether a close observation at `now` would start a new spell (none, or after a gap)."""
        prox = self._pairs.get(key)
        return prox is None or now - prox.last > self.max_gap_s

    def observe_close(
        self, key: PairKey, now: float, distance_m: float, *, since: float | None = None
    ) -> Proximity:
        """A close observation at `now`. `since`: when a new spell starts, the earlier time the
        evidence shows it began (the previous fixes were already close, with slow movement between)."""
        prox = self._pairs.get(key)
        if prox is not None and now < prox.first:
            return prox  # older evidence than the spell itself: nothing new
        if prox is None or now - prox.last > self.max_gap_s:
            first = now if since is None or not 0.0 <= now - since <= self.max_gap_s else since
            prox = Proximity(first=first, last=now, closest_m=distance_m, last_m=distance_m)
            self._pairs[key] = prox
            for m in key:
                self._by_vessel.setdefault(m, set()).add(key)
            return prox
        prox.last = max(prox.last, now)
        prox.last_m = distance_m
        prox.closest_m = min(prox.closest_m, distance_m)
        return prox

    def end(self, key: PairKey) -> Proximity | None:
        prox = self._pairs.pop(key, None)
        if prox is not None:
            for m in key:
                keys = self._by_vessel.get(m)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._by_vessel[m]
        return prox

    def end_and_clear(self, key: PairKey, alert_type: str, ctx: RuleContext, reason: str) -> None:
        """End the pair's spell and clear its alert (when one is active), with the spell's evidence."""
        prox = self.end(key)
        if prox is None or not ctx.alerts.is_active(alert_type, key[0], key[1]):
            return
        ctx.alerts.clear(
            type=alert_type,
            mmsi=key[0],
            other_mmsi=key[1],
            details={
                "reason": reason,
                "duration_s": round(prox.duration(), 1),
                "closest_m": round(prox.closest_m, 1),
            },
        )

    def has_pairs(self, mmsi: int) -> bool:
        return mmsi in self._by_vessel

    def pairs_of(self, mmsi: int) -> list[PairKey]:
        return sorted(self._by_vessel.get(mmsi, ()))

    def stale(self, now: float, older_than_s: float) -> list[PairKey]:
        """Pairs not observed close for more than `older_than_s`, sorted."""
        return sorted(k for k, p in self._pairs.items() if now - p.last > older_than_s)


def previous_fix(vessel: VesselState, max_speed_kn: float, max_gap_s: float) -> Fix | None:
    """The fix before the vessel's latest one, when the vessel moved from it to the latest at under
    `max_speed_kn` (implied speed) within `max_gap_s`; else None."""
    trail = vessel.trail
    if len(trail) < 2:
        return None
    prev, cur = trail[-2], trail[-1]
    dt = cur.time - prev.time
    if dt <= 0 or dt > max_gap_s:
        return None
    implied_kn = approx_distance_m(prev.lat, prev.lon, cur.lat, cur.lon) / dt / KNOT_MS
    return prev if implied_kn < max_speed_kn else None
