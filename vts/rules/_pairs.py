"""Bookkeeping for pairwise proximity rules (alongside, rendezvous): how long two vessels have
been close, observed on the reports of either, with no interpolation across reception gaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PairKey = tuple[int, int]


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

    def observe_close(self, key: PairKey, now: float, distance_m: float) -> Proximity:
        prox = self._pairs.get(key)
        if prox is not None and now < prox.first:
            return prox  # older evidence than the spell itself: nothing new
        if prox is None or now - prox.last > self.max_gap_s:
            prox = Proximity(first=now, last=now, closest_m=distance_m, last_m=distance_m)
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

    def pairs_of(self, mmsi: int) -> list[PairKey]:
        return sorted(self._by_vessel.get(mmsi, ()))

    def stale(self, now: float, older_than_s: float) -> list[PairKey]:
        """Pairs not observed close for more than `older_than_s`, sorted."""
        return sorted(k for k, p in self._pairs.items() if now - p.last > older_than_s)
