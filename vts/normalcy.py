"""Normal traffic, learned from the traffic itself: a per-cell model of where ships go and which way.

The sea is cut into square cells of about `cell_m` metres (rows of constant latitude; in each row
the longitude step follows the row's latitude, so cells stay square anywhere on earth and no port
or origin is built in). For every cell the model keeps

* how many distinct vessels have been seen there under way (a vessel counts once per cell),
* how many of them went in each of 12 course sectors of 30 degrees (again once per vessel),
* the mean and spread of their speed over ground,

in two layers: ``large`` (large vessels, `vts.vessel_class.is_large_vessel`) and ``all``.

`NormalcyModel.anomaly(lat, lon, cog)` scores one fix in [0, 1] against the cells around it (a
square of (2 x `neighbourhood` + 1)^2 cells): 1 where no vessel has ever gone, falling as traffic
there grows (exp(-vessels / `min_vessels`)); where there is traffic, a course that almost no vessel
there has sailed (under `rare_course` of them within one sector either side) scores too.
`track_score` condenses a whole track into one number (the worst sliding-window mean), which is
what ROC curves over labelled tracks are computed from.

`vts learn` builds the model from recorded logs and saves it as ``.npz``; the course_anomaly rule
loads it (its ``model_path`` parameter).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

M_PER_DEG = 6_371_008.8 * math.pi / 180.0
COURSE_BINS = 12
FORMAT_VERSION = 1
Layer = Literal["large", "all"]


def cell_of(lat: float, lon: float, cell_m: float) -> tuple[int, int]:
    """(row, column) of the cell holding (lat, lon)."""
    row = math.floor(lat * M_PER_DEG / cell_m)
    row_lat = (row + 0.5) * cell_m / M_PER_DEG
    col = math.floor(lon * M_PER_DEG * max(math.cos(math.radians(row_lat)), 0.01) / cell_m)
    return row, col


def course_bin(cog: float) -> int:
    return int((cog % 360.0) // (360.0 / COURSE_BINS)) % COURSE_BINS


@dataclass(slots=True)
class _LayerData:
    vessels: dict[tuple[int, int], int] = field(default_factory=dict)
    courses: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    sog_sum: dict[tuple[int, int], float] = field(default_factory=dict)
    sog_sq: dict[tuple[int, int], float] = field(default_factory=dict)
    fixes: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CellStats:
    vessels: int
    """Distinct vessels seen under way in the neighbourhood (counted once per cell)."""
    course_share: float | None
    """Share of those vessel-cell visits within one course sector of the given course (None: no course)."""
    mean_sog_kn: float | None


class NormalcyModel:
    """The learned model. Build with `NormalcyBuilder`, save with `save`, read with `load`."""

    def __init__(
        self,
        cell_m: float,
        layers: dict[str, _LayerData],
        *,
        min_sog_kn: float,
        logs: Sequence[str] = (),
        neighbourhood: int = 2,
        min_vessels: float = 2.0,
        rare_course: float = 0.05,
    ) -> None:
        self.cell_m = cell_m
        self._layers = layers
        self.min_sog_kn = min_sog_kn
        self.logs = list(logs)
        self.neighbourhood = neighbourhood
        self.min_vessels = min_vessels
        self.rare_course = rare_course

    # -- queries ---------------------------------------------------------------------------------
    def vessels_in_layer(self, layer: Layer) -> int:
        return len(self._layers[layer].vessels)

    def total_vessels(self, layer: Layer) -> int:
        return sum(self._layers[layer].vessels.values())

    def layer_for(self, preferred: Layer, min_cells: int = 50) -> Layer:
        """`preferred`, unless it holds too little data to judge by (then ``all``)."""
        return preferred if len(self._layers[preferred].vessels) >= min_cells else "all"

    def stats(self, lat: float, lon: float, cog: float | None, layer: Layer = "all") -> CellStats:
        data = self._layers[layer]
        row, _ = cell_of(lat, lon, self.cell_m)
        n = self.neighbourhood
        vessels = 0
        hist = np.zeros(COURSE_BINS)
        sog_sum = 0.0
        fixes = 0
        for dr in range(-n, n + 1):
            r = row + dr
            # columns of neighbouring rows are numbered on their own latitude: recompute
            row_lat = (r + 0.5) * self.cell_m / M_PER_DEG
            c0 = math.floor(lon * M_PER_DEG * max(math.cos(math.radians(row_lat)), 0.01) / self.cell_m)
            for dc in range(-n, n + 1):
                key = (r, c0 + dc)
                v = data.vessels.get(key)
                if not v:
                    continue
                vessels += v
                hist += data.courses[key]
                sog_sum += data.sog_sum.get(key, 0.0)
                fixes += data.fixes.get(key, 0)
        share: float | None = None
        if cog is not None and hist.sum() > 0:
            b = course_bin(cog)
            near = hist[b] + hist[(b - 1) % COURSE_BINS] + hist[(b + 1) % COURSE_BINS]
            share = float(near / hist.sum())
        return CellStats(vessels, share, sog_sum / fixes if fixes else None)

    def anomaly(self, lat: float, lon: float, cog: float | None = None, layer: Layer = "all") -> float:
        """How unusual a fix is, in [0, 1]: 1 = where no vessel goes (or a course nobody sails there)."""
        st = self.stats(lat, lon, cog, layer)
        density = math.exp(-st.vessels / self.min_vessels)
        course = 0.0
        if st.course_share is not None and st.vessels >= self.min_vessels:
            course = max(0.0, 1.0 - st.course_share / self.rare_course)
        return max(density, course)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(FORMAT_VERSION),
            "cell_m": np.array(self.cell_m),
            "min_sog_kn": np.array(self.min_sog_kn),
            "logs": np.array(self.logs, dtype=str),
        }
        for name, data in self._layers.items():
            keys = sorted(data.vessels)
            arrays[f"{name}_cells"] = np.array(keys, dtype=np.int64).reshape(-1, 2)
            arrays[f"{name}_vessels"] = np.array([data.vessels[k] for k in keys], dtype=np.int32)
            arrays[f"{name}_courses"] = np.array([data.courses[k] for k in keys], dtype=np.float32).reshape(
                -1, COURSE_BINS
            )
            arrays[f"{name}_sog_sum"] = np.array([data.sog_sum[k] for k in keys], dtype=np.float64)
            arrays[f"{name}_sog_sq"] = np.array([data.sog_sq[k] for k in keys], dtype=np.float64)
            arrays[f"{name}_fixes"] = np.array([data.fixes[k] for k in keys], dtype=np.int64)
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path, **tuning: float) -> NormalcyModel:
        """Read a model written by `save`; ValueError with a clear message when it is not one."""
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["format_version"])
                if version != FORMAT_VERSION:
                    raise ValueError(f"{path}: normalcy model format {version}, expected {FORMAT_VERSION}")
                layers: dict[str, _LayerData] = {}
                for name in ("large", "all"):
                    # each `z[...]` reads and inflates its array from the file again: once each
                    cells = z[f"{name}_cells"].tolist()
                    vessels = z[f"{name}_vessels"].tolist()
                    courses = z[f"{name}_courses"].astype(float)
                    sog_sum = z[f"{name}_sog_sum"].tolist()
                    sog_sq = z[f"{name}_sog_sq"].tolist()
                    fixes = z[f"{name}_fixes"].tolist()
                    data = _LayerData()
                    for k, (r, c) in enumerate(cells):
                        key = (int(r), int(c))
                        data.vessels[key] = int(vessels[k])
                        data.courses[key] = courses[k]
                        data.sog_sum[key] = float(sog_sum[k])
                        data.sog_sq[key] = float(sog_sq[k])
                        data.fixes[key] = int(fixes[k])
                    layers[name] = data
                return cls(
                    float(z["cell_m"]),
                    layers,
                    min_sog_kn=float(z["min_sog_kn"]),
                    logs=[str(s) for s in z["logs"].tolist()],
                    **tuning,  # type: ignore[arg-type]
                )
        except (OSError, KeyError, ValueError, EOFError) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
                raise
            raise ValueError(f"{path}: not a normalcy model ({exc})") from exc


class NormalcyBuilder:
    """Collects fixes under way and builds a `NormalcyModel`."""

    def __init__(self, cell_m: float = 500.0, min_sog_kn: float = 1.0) -> None:
        if cell_m <= 0:
            raise ValueError("cell size must be positive")
        self.cell_m = cell_m
        self.min_sog_kn = min_sog_kn
        self._visits: dict[int, dict[tuple[int, int], list[float]]] = {}
        self._courses: dict[int, dict[tuple[int, int], set[int]]] = {}
        self._sog: dict[int, dict[tuple[int, int], list[float]]] = {}
        self.large: set[int] = set()
        self.fixes = 0

    def add(self, mmsi: int, lat: float, lon: float, sog: float | None, cog: float | None) -> bool:
        """One fix; True when it was used (under way, with a plausible position)."""
        if sog is None or sog < self.min_sog_kn or not (-90 < lat < 90 and -180 <= lon <= 180):
            return False
        if abs(lat) < 1e-6 and abs(lon) < 1e-6:
            return False
        key = cell_of(lat, lon, self.cell_m)
        self._sog.setdefault(mmsi, {}).setdefault(key, []).append(sog)
        if cog is not None:
            self._courses.setdefault(mmsi, {}).setdefault(key, set()).add(course_bin(cog))
        self.fixes += 1
        return True

    @property
    def vessels(self) -> int:
        """Distinct vessels with at least one fix learned."""
        return len(self._sog)

    def mark_large(self, mmsi: int) -> None:
        self.large.add(mmsi)

    def build(self, logs: Iterable[str] = ()) -> NormalcyModel:
        layers = {"large": _LayerData(), "all": _LayerData()}
        for mmsi in sorted(self._sog):
            targets = [layers["all"], layers["large"]] if mmsi in self.large else [layers["all"]]
            for key, sogs in self._sog[mmsi].items():
                bins = self._courses.get(mmsi, {}).get(key, set())
                for data in targets:
                    data.vessels[key] = data.vessels.get(key, 0) + 1
                    hist = data.courses.setdefault(key, np.zeros(COURSE_BINS))
                    for b in bins:
                        hist[b] += 1.0
                    data.sog_sum[key] = data.sog_sum.get(key, 0.0) + float(sum(sogs))
                    data.sog_sq[key] = data.sog_sq.get(key, 0.0) + float(sum(s * s for s in sogs))
                    data.fixes[key] = data.fixes.get(key, 0) + len(sogs)
        return NormalcyModel(self.cell_m, layers, min_sog_kn=self.min_sog_kn, logs=list(logs))


def track_score(
    model: NormalcyModel,
    fixes: Sequence[tuple[float, float, float, float | None]],
    window_s: float = 300.0,
    layer: Layer = "all",
) -> float:
    """One anomaly score for a track of (time, lat, lon, cog) fixes, in time order: the highest mean
    anomaly over any window spanning `window_s` seconds (the whole track's mean when it is shorter).
    0 for an empty track."""
    if not fixes:
        return 0.0
    times = np.array([f[0] for f in fixes], dtype=float)
    scores = np.array([model.anomaly(f[1], f[2], f[3], layer) for f in fixes], dtype=float)
    if times[-1] - times[0] < window_s:
        return float(scores.mean())
    best = 0.0
    start = 0
    total = 0.0
    for end in range(len(scores)):
        total += scores[end]
        while start < end and times[end] - times[start + 1] >= window_s:
            total -= scores[start]
            start += 1
        if times[end] - times[0] >= window_s:
            best = max(best, total / (end - start + 1))
    return float(best)


class OffRouteWatch:
    """The off_route decision for one vessel, fed its fixes' anomaly scores in time order.

    Raised when the mean anomaly over the last `window_s` seconds (the window must be covered) is at
    least `threshold`, but only for a vessel that has first been seen on the usual routes (a covered
    window with mean anomaly under `normal_below`): the rule is about ships that *leave* the
    usual approach, not ships first met somewhere the model has no data for. Cleared when the mean
    falls under 0.75 x threshold.
    """

    __slots__ = ("active", "normal_below", "seen_on_route", "threshold", "window", "window_s")

    def __init__(self, window_s: float = 600.0, threshold: float = 0.6, normal_below: float = 0.2) -> None:
        self.window_s = window_s
        self.threshold = threshold
        self.normal_below = normal_below
        self.window: deque[tuple[float, float]] = deque()
        self.seen_on_route = False
        self.active = False

    def mean(self) -> float:
        return sum(s for _, s in self.window) / len(self.window) if self.window else 0.0

    def span(self) -> float:
        return self.window[-1][0] - self.window[0][0] if self.window else 0.0

    def feed(self, t: float, score: float) -> Literal["raise", "hold", "clear"] | None:
        """One fix: "raise" (newly off route), "hold" (still off route), "clear" (back), or None."""
        self.window.append((t, score))
        while len(self.window) > 1 and t - self.window[1][0] >= self.window_s:
            self.window.popleft()
        covered = self.span() >= self.window_s
        mean = self.mean()
        if covered and mean < self.normal_below:
            self.seen_on_route = True
        if covered and mean >= self.threshold and self.seen_on_route:
            was = self.active
            self.active = True
            return "hold" if was else "raise"
        if self.active and mean < self.threshold * 0.75:
            self.active = False
            return "clear"
        return "hold" if self.active else None

    def saved(self) -> list[Any]:
        """As JSON data, for a restart (`restored`)."""
        return [self.seen_on_route, self.active, [list(ts) for ts in self.window]]

    @classmethod
    def restored(
        cls, data: Sequence[Any], window_s: float, threshold: float, normal_below: float
    ) -> OffRouteWatch:
        """A watch again from `saved`'s data, with the thresholds of now."""
        watch = cls(window_s, threshold, normal_below)
        seen, active, window = data
        watch.seen_on_route, watch.active = bool(seen), bool(active)
        watch.window.extend((float(t), float(score)) for t, score in window)
        return watch


def roc_auc(normal: Sequence[float], anomalous: Sequence[float]) -> float | None:
    """Area under the ROC curve: the probability that an anomalous track scores above a normal one
    (ties count half). None when either group is empty."""
    if not normal or not anomalous:
        return None
    a = np.asarray(anomalous, dtype=float)[:, None]
    n = np.asarray(normal, dtype=float)[None, :]
    return float(((a > n).sum() + 0.5 * (a == n).sum()) / (a.size * n.size))
