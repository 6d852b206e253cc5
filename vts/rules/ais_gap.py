"""ais_gap ("going dark"): a vessel that was reporting well falls silent inside the coverage area
while the vessels around it are still heard.

Checked every `tick_seconds` of event time. A vessel goes dark when

* it sent at least `min_messages` (10) messages in the `history_minutes` (30) before its last one,
* it has been silent for `underway_minutes` (10) — or, if it was at anchor or moored
  (`vts.vessel_class.is_moored_or_anchored`: nav status 1 or 5 below 3 kn, or under 0.5 kn for
  10 minutes), or a ship (not a small craft) last heard berthing (in a berth or terminal,
  `berthing_zone_kinds`, under `berthing_max_kn`, 3 kn: a ship coming alongside still shows
  status 0, and cranes and sheds shadow it from the receiver; in recorded US West Coast traffic,
  ferries arriving at their terminals raised it), `moored_minutes` (30); a small craft there keeps
  the shorter limit: one going dark beside a ship at its berth is what the watch is for. Never less
  than its IEC 62388 lost-target time (six nominal
  reporting intervals: a slow Class B reports only every 3 minutes). Silence counts from when the
  vessel was last heard (the event-time clock when its last report was processed), so a feed that
  delivers old fixes late does not make its vessels look silent,
* its last position is inside the watched area and at least `edge_margin_m` inside its edge (a
  vessel sailing out of coverage is not going dark),
* at least `min_neighbours` other vessels within `neighbour_radius_m` (5 NM) of its last position
  were heard after it fell silent (so the receiver is not the one that went quiet; the own ship's
  VDO reports do not count).

After a restart the tracker takes up the vessels it knew (`vts.tracker`), so a vessel that fell
silent while vts was down is found dark too; its silence counts from the restart (nothing was
heard before), its last message from when it was really last heard, and the alert says so
(``since_restart`` in its details, and in its message).

Severity is alarm when the last position was in a security or restricted zone, warning elsewhere.
The alert is updated while the silence lasts and cleared when the vessel is heard again (a late
copy of a report from before the silence is not), with the gap's duration, the distance between the
last and the new position, the implied speed (from the last fix), and flags when that speed exceeds
`implied_speed_flag_kn` (25 kn) or the vessel reappears more than `far_flag_m` (2 NM) away. A
vessel dark for `max_dark_hours` is given up (cleared, reason given) and not judged again until
heard. A rule made by a reload takes over the vessels the tracker knows and the active ais_gap
alerts (so a vessel dark before the reload is still cleared when it reappears).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

import numpy as np
from mypy_extensions import mypyc_attr

from vts.alerts.model import iso_time
from vts.batch import NO_FIX, SAFETY, STATIC, BatchRows
from vts.reports import PositionReport
from vts.rules._common import AREA_KINDS, ZoneKinds, is_vessel_mmsi, zone_ids_of_kinds
from vts.rules.base import Rule, RuleContext, RuleParams
from vts.rules.params import AisGapParams
from vts.spatial import approx_distance_m
from vts.tracker import SHADOW_OUTLIER_FORGET_S
from vts.vessel_class import is_moored_or_anchored, is_small_craft

if TYPE_CHECKING:
    from vts.batch import ReportBatch
    from vts.reports import Report
    from vts.tracker import VesselState

TYPE = "ais_gap"
RETRY_S = 60.0
"""A vessel not yet judged dark (silent too briefly, nobody near heard yet) is looked at again after this."""


@dataclass(slots=True)
class _Dark:
    last_seen: float
    """Event time of its last message."""
    silent_since: float
    """The clock when it was last heard (its silence counts from then)."""
    fix_time: float
    """Event time of its last fix (at `lat`, `lon`)."""
    lat: float
    lon: float
    name: str | None
    zone: str | None
    since_restart: bool = False
    """Last heard before a restart of vts and not since: its silence counts from the restart."""


@dataclass(slots=True)
class _Pending:
    """A batch whose rows have not all been applied to the heard order yet (see `AisGapRule`)."""

    batch: ReportBatch
    rows: BatchRows
    """Its rows' clock (a time step to `now` happens just before the first row bringing it there)."""
    heard: np.ndarray
    """Rows that make their vessel heard unless their fix went to a shadow track: position and
    static reports. A safety report is marked here by `on_report` when it reached a vessel (the
    tracker gives none for a base station or an aid to navigation)."""
    start: int = 0
    """Rows before this one have been applied."""
    final: bool = False
    """Every row has been processed (a later batch began, or a report came one by one)."""
    rows_of: dict[int, int] | None = None
    """id(report) -> row, built when a row first reaches `on_report`."""

    def processed(self, now: float) -> int:
        """Rows processed when the clock reached `now` (every row before the first whose running
        maximum reaches it; all of them once the batch is over)."""
        if self.final:
            return len(self.batch)
        return self.rows.processed(now)

    def row_of(self, report: Report) -> int:
        """The row of `report` if it is a row of this batch not yet applied, else -1."""
        rows_of = self.rows_of
        if rows_of is None:
            rows_of = self.rows_of = {id(r): i for i, r in enumerate(self.batch.reports)}
        i = rows_of.get(id(report), -1)
        return i if i >= self.start else -1


@dataclass(slots=True)
class _Chunk:
    """A run of the heard order: vessels and the sequence numbers of their last heard report,
    ascending. An entry is live while its vessel's number is still that one (heard since: a newer
    entry, further on) and the vessel is not decided for it."""

    mmsi: list[int]
    seq: list[int]


@mypyc_attr(allow_interpreted_subclasses=True)  # tests spy on it through a subclass
class AisGapRule(Rule):
    """Going dark.

    The tick scans the vessels in the order they were last heard, least recently heard first, and
    stops at the first one heard lately. That order is kept as sequence numbers: each vessel has the
    number of its last report (`_seq`: the order is theirs), and the vessels not yet decided for
    their current silence sit in `_chunks`, runs in ascending order, where an entry stays until
    the scan passes it no longer live (the vessel heard since, or decided). Hearing a vessel then
    costs one number and one entry, and nothing moves.

    Reports fed one by one number their vessel on the spot. In a batch that work is done in bulk:
    `interest` keeps the batch, and before a tick (or anything else reading the order) the rows
    processed since are numbered at once, each vessel once, in the order of its last row (what
    numbering it on every row would have given). A row leaves its vessel's number alone when it is
    not about a vessel or its fix went to a shadow track (a second ship under the MMSI): a vessel
    whose last row is a fix and which has a shadow track now (or whose last fix is so late that a
    shadow made of it may have been pruned already) is checked against the tracker
    (`VesselState.last_fix`). Only safety reports (whether they reach a vessel depends on the
    tracker) and the reports of dark vessels (watched: their reappearance is an alert) reach
    `on_report`.

    Vessels not dark yet because they have not been silent long enough wait in `_waiting`: the
    tick passes them over until their retry time, and re-arms them without a look at the vessel
    while their silence is still shorter than their limit (neither can change unless they are heard,
    which gives them a new number). Such a vessel is parked: taken out of the runs (`_out`) and
    kept in `_retry_at` by retry time, so the tick meets only those due instead of passing over
    every waiting vessel on each scan. One whose waiting entry is dropped while it keeps its number
    (a shadow track's report) is loose (`_loose`): looked at on every tick, as an undecided vessel
    in the runs would be.
    """

    id = TYPE
    Params = AisGapParams
    tick_seconds = 30.0

    def __init__(self, params: RuleParams) -> None:
        super().__init__(params)
        self.p: AisGapParams = params  # type: ignore[assignment]
        self._berths = ZoneKinds(self.p.berthing_zone_kinds)
        self._dark: dict[int, _Dark] = {}
        self._checked: dict[int, float] = {}
        """last_seen of vessels already examined and found not dark (not re-examined until heard)."""
        self._retry: dict[int, float] = {}
        self._seq: dict[int, int] = {}
        """Every vessel heard (and not forgotten since) -> the number of its last heard report."""
        self._heard_at: dict[int, float] = {}
        """Every vessel in `_seq` -> the clock when it got that number (when it was last heard: its
        silence counts from then). Ascending with the numbers."""
        self._started = False
        """Whether the rule has taken over the tracker's vessels and the active alerts (`_start`)."""
        self._next_seq = 0
        self._chunks: deque[_Chunk] = deque()
        """The vessels not decided yet for their current silence, in the order they were last heard
        (among stale entries: see `_Chunk`). The tick scans these."""
        self._decided: dict[int, int] = {}
        """Vessels decided for their current silence (dark, or examined and found not dark, or never
        to be) -> their number then: decided until heard again."""
        self._out: dict[int, int] = {}
        """Vessels out of the runs -> their number then: the decided ones, the parked ones (waiting,
        in `_retry_at`) and the loose ones (`_loose`). An entry of the runs is live only while its
        vessel is not out at its number."""
        self._out_heap: list[tuple[int, int]] = []
        """(-number, MMSI) of the vessels out of the runs (and stale ones): the heard order of those,
        from the most recently heard, for `_neighbours_heard`."""
        self._retry_at: dict[float, list[int]] = {}
        """Retry time -> number, MMSI, number, MMSI ... (flat: no tuple made per vessel) of the vessels
        parked until then (and stale entries): the tick takes those due. (The vessels re-armed in one
        tick share a retry time.)"""
        self._retry_times: list[float] = []
        """The retry times of `_retry_at`, a heap."""
        self._limit_found = 0.0
        """The silence limit `_goes_dark` last computed."""
        self._loose: dict[int, int] = {}
        """Vessels out of the runs whose waiting entry was dropped (a shadow track's report) while
        they kept their number -> that number: looked at on every tick."""
        self._waiting: dict[int, tuple[float, float, float, int]] = {}
        """Vessels examined and not dark yet: (retry time, heard at, silence limit, number). While
        the vessel keeps that number (not heard since, nor touched by a shadow track's report),
        nothing the tick tests about it can have changed but the time."""
        self._pending: list[_Pending] = []
        self._caught_up = math.nan
        """The clock at the last `_catch_up` (nothing new to apply until it moves)."""

    # -- the heard order -------------------------------------------------------------------------
    def interest(self, batch: ReportBatch, ctx: RuleContext) -> np.ndarray:
        """Safety reports only (and, through `watch`, the reports of dark vessels): the batch is
        kept, and its rows are applied to the heard order in bulk (see the class docstring)."""
        self._caught_up = math.nan
        for pend in self._pending:
            pend.final = True
        if not len(batch):
            return np.zeros(0, dtype=bool)
        rows = batch.rows(ctx.now)
        kind = rows.kind
        self._pending.append(_Pending(batch, rows, batch.is_position | (kind == NO_FIX) | (kind == STATIC)))
        return kind == SAFETY

    def _hear(self, vessels: list[int], clocks: list[float]) -> None:
        """These vessels were heard, in this order (after every vessel heard before), the clock
        then being `clocks` (ascending)."""
        base = self._next_seq
        self._next_seq = base + len(vessels)
        # one int object per number, shared by `_seq` and the run (half the ints made)
        numbers = list(range(base, self._next_seq))
        self._seq.update(zip(vessels, numbers, strict=True))
        self._heard_at.update(zip(vessels, clocks, strict=True))
        self._chunks.append(_Chunk(vessels, numbers))

    def _start(self, ctx: RuleContext) -> None:
        """Before anything else: take over the vessels the tracker knows (the least recently heard
        first) and the active ais_gap alerts, which a rule made by a reload (or a restart with an
        alert store) would otherwise know nothing of. At start-up both are empty."""
        self._started = True
        known = sorted((v.last_seen, v.mmsi) for v in ctx.tracker.vessels() if not v.is_shadow)
        if known:
            # a track taken up after a restart was not listened to while vts was down: its silence
            # counts from the restart at the earliest (ascending still: the clocks only rise)
            resumed = ctx.tracker.resumed_at
            clocks = [t for t, _ in known] if resumed is None else [max(t, resumed) for t, _ in known]
            self._hear([m for _, m in known], clocks)
        for mmsi in sorted(ctx.alerts.active_mmsis(TYPE)):
            alert = ctx.alerts.active_alert(TYPE, mmsi)
            if alert is None or alert.lat is None or alert.lon is None:
                continue
            last_seen = _event_time(alert.details.get("last_seen"), alert.time)
            zone = alert.details.get("last_zone")
            zone_id = zone if isinstance(zone, str) else None
            t = last_seen
            self._dark[mmsi] = _Dark(t, t, t, alert.lat, alert.lon, alert.name, zone_id)
            self.watch(ctx, mmsi)
            if mmsi in self._seq:
                self._decide(mmsi)

    def _catch_up(self, ctx: RuleContext) -> None:
        """Apply the batch rows processed so far to the heard order. (The core processes rows
        between two steps of its clock only: at the same `now` there is nothing new to apply.)"""
        now = ctx.now
        if now == self._caught_up:
            return
        if not self._started:
            self._start(ctx)
        for pend in self._pending:
            end = pend.processed(now)
            if end > pend.start:
                self._apply(ctx, pend, end)
        self._pending = [pend for pend in self._pending if pend.start < len(pend.batch)]
        self._caught_up = now if self._pending else math.nan

    def _apply(self, ctx: RuleContext, pend: _Pending, end: int) -> None:
        """Number the vessels heard in rows [pend.start, end), in the order of their last such
        row: what numbering them on each row would have given."""
        start, pend.start = pend.start, end
        rows = np.flatnonzero(pend.heard[start:end])
        if not len(rows):
            return
        rows += start
        batch = pend.batch
        mmsi = batch.mmsi[rows].tolist()
        order = dict(zip(mmsi, rows.tolist(), strict=True))  # the last row of each vessel
        # A fix may have gone to a shadow track. Then the vessel has a shadow track now, unless the
        # prune dropped it: only a shadow older than the outlier time-out (or the forget time) is.
        tracker = ctx.tracker
        suspects = {s.mmsi for s in tracker.shadows() if s.mmsi in order}
        late = batch.time[rows] < ctx.now - min(SHADOW_OUTLIER_FORGET_S, tracker.settings.forget_after_s)
        if late.any():
            suspects.update(batch.mmsi[rows[late]].tolist())
        if suspects:
            reports = batch.reports
            moved: dict[int, int] = {}  # suspects not heard on their last row: their last heard row
            for m in sorted(suspects):
                row = order[m]
                if not batch.is_position.item(row):
                    continue  # a report without a fix reaches the vessel itself
                v = tracker.get(m)
                if v is not None and v.last_fix is reports[row]:
                    continue  # its last fix reached the vessel itself
                moved[m] = self._last_heard(v, pend, rows[batch.mmsi[rows] == m])
            for m, row in moved.items():
                if row < 0:  # not heard: touched by a shadow track's reports only
                    del order[m]
                    self._unwait(m)
                else:
                    order[m] = row
        heard = sorted(order, key=order.__getitem__)
        self._hear(heard, pend.rows.clock[[order[m] for m in heard]].tolist())

    @staticmethod
    def _last_heard(v: VesselState | None, pend: _Pending, rows: np.ndarray) -> int:
        """The last of these rows (one vessel's) that reached the vessel's own track, or -1."""
        if v is None:
            return -1
        is_fix = pend.batch.is_position
        reports = pend.batch.reports
        for i in reversed(rows.tolist()):
            if not is_fix[i] or reports[i] is v.last_fix:
                return i  # a report without a fix always reaches the vessel itself
        return -1

    def _batched_row(self, report: Report) -> int:
        """The row of `report` in the batch being processed, or -1 (a report fed one by one)."""
        pend = self._pending[-1]
        return -1 if pend.final else pend.row_of(report)

    def _decide(self, mmsi: int) -> None:
        """Decided for its current silence (until heard again)."""
        number = self._seq[mmsi]
        self._decided[mmsi] = number
        if self._out.get(mmsi) != number:
            self._out[mmsi] = number
            heappush(self._out_heap, (-number, mmsi))

    def _park(self, mmsi: int, number: int, retry: float) -> None:
        """Waiting (in `_waiting`, at this number) until `retry`: out of the runs, in the retry heap."""
        if self._out.get(mmsi) != number:
            self._out[mmsi] = number
            heappush(self._out_heap, (-number, mmsi))
        bucket = self._retry_at.get(retry)
        if bucket is None:
            bucket = self._retry_at[retry] = []
            heappush(self._retry_times, retry)
        bucket.append(number)
        bucket.append(mmsi)
        self._loose.pop(mmsi, None)

    def _unwait(self, mmsi: int) -> None:
        """Its waiting entry dropped (its limit may have changed) while it keeps its number: a
        parked vessel becomes loose (looked at on every tick, as an undecided vessel in the runs)."""
        if self._waiting.pop(mmsi, None) is None:
            return
        number = self._seq.get(mmsi)
        if number is not None and self._out.get(mmsi) == number and self._decided.get(mmsi) != number:
            self._loose[mmsi] = number

    def _rebuild(self) -> None:
        """The undecided runs, the heap of the vessels out of them and the retry heap again from
        `_seq`, `_decided` and `_waiting` (after vessels were made undecided again, at their old
        places; the loose ones go back to the runs)."""
        seq, decided = self._seq, self._decided
        out = {m: n for m, n in decided.items() if seq.get(m) == n}
        parked: dict[float, list[int]] = {}
        for m, w in self._waiting.items():
            n = w[3]
            if seq.get(m) == n and m not in out:
                out[m] = n
                bucket = parked.setdefault(w[0], [])
                bucket.append(n)
                bucket.append(m)
        self._out = out
        self._loose.clear()
        entries = sorted((n, m) for m, n in seq.items() if out.get(m) != n)
        self._chunks = deque([_Chunk([m for _, m in entries], [n for n, _ in entries])])
        self._out_heap = [(-n, m) for m, n in out.items()]
        heapify(self._out_heap)
        self._retry_at = parked
        self._retry_times = list(parked)
        heapify(self._retry_times)

    def on_report(self, vessel: VesselState | None, report: Report, ctx: RuleContext) -> None:
        if not self._started:
            self._start(ctx)
        if vessel is None:
            return
        if vessel.is_shadow:  # (as the batch: its waiting limit may have changed with the report)
            self._unwait(vessel.mmsi)
            return
        mmsi = vessel.mmsi
        row = self._batched_row(report) if self._pending else -1
        if row >= 0:
            self._pending[-1].heard[row] = True  # numbered when the batch rows are applied
        else:
            if self._pending:  # a report fed one by one: the batches before it are over
                for pend in self._pending:
                    pend.final = True
                self._caught_up = math.nan
                self._catch_up(ctx)
            number = self._next_seq  # most recently heard
            self._next_seq = number + 1
            self._seq[mmsi] = number
            self._heard_at[mmsi] = ctx.now
            if not self._chunks:
                self._chunks.append(_Chunk([], []))
            chunk = self._chunks[-1]
            chunk.mmsi.append(mmsi)
            chunk.seq.append(number)
        dark = self._dark.get(report.mmsi)
        if dark is None or report.time <= dark.last_seen:
            return  # (a late copy of a report from before the silence is no reappearance)
        del self._dark[report.mmsi]
        self.unwatch(ctx, report.mmsi)
        gap = report.time - dark.last_seen
        details: dict[str, object] = {
            "reason": "reappeared",
            "last_seen": iso_time(dark.last_seen),
            "silent_s": round(ctx.now - dark.silent_since, 0),  # (the last update's is up to a tick old)
            "gap_s": round(gap, 1),
        }
        if isinstance(report, PositionReport) and report.lat is not None and report.lon is not None:
            dist = approx_distance_m(dark.lat, dark.lon, report.lat, report.lon)
            since_fix = report.time - dark.fix_time
            implied = dist / since_fix * 3600.0 / 1852.0 if since_fix > 0 else 0.0
            details.update(
                {
                    "distance_m": round(dist, 0),
                    "implied_speed_kn": round(implied, 2),
                    "implied_speed_flag": implied > self.p.implied_speed_flag_kn,
                    "far_flag": dist > self.p.far_flag_m,
                }
            )
        ctx.alerts.clear(
            type=TYPE,
            mmsi=report.mmsi,
            details=details,
            message=f"{_who(dark, report.mmsi)} heard again after {gap / 60:.0f} min silent",
        )

    # -- the tick --------------------------------------------------------------------------------
    def on_tick(self, ctx: RuleContext) -> None:
        if not self._started:
            self._start(ctx)
        if self._pending:
            self._catch_up(ctx)
        p = self.p
        now = ctx.now
        for mmsi in sorted(self._dark):
            d = self._dark[mmsi]
            if now - d.silent_since > p.max_dark_hours * 3600.0:
                del self._dark[mmsi]
                self.unwatch(ctx, mmsi)
                self._checked[mmsi] = d.last_seen  # not judged again until heard
                ctx.alerts.clear(type=TYPE, mmsi=mmsi, details={"reason": "not heard again"})
            else:
                self._hold(ctx, mmsi, d)
        waiting = self._waiting
        silent_ones, gone = self._silent_ones(ctx, min(p.underway_minutes, p.moored_minutes) * 60.0)
        for mmsi in gone:
            del self._seq[mmsi]
            del self._heard_at[mmsi]
            self._decided.pop(mmsi, None)
            self._out.pop(mmsi, None)
            self._loose.pop(mmsi, None)
            waiting.pop(mmsi, None)
        for vessel in silent_ones:
            mmsi = vessel.mmsi
            w = waiting.get(mmsi)
            if w is not None and w[3] == self._seq[mmsi] and now - w[1] < w[2]:
                # still silent for less than its limit: `_goes_dark` would say not yet again
                # (`_silent_ones` re-arms those itself: kept for safety)
                retry = now + RETRY_S
                self._retry[mmsi] = retry
                waiting[mmsi] = (retry, w[1], w[2], w[3])
                self._park(mmsi, w[3], retry)
                continue
            if (
                mmsi in self._dark
                or vessel.is_shadow
                or vessel.own_ship
                or not is_vessel_mmsi(mmsi)
                or self._checked.get(mmsi) == vessel.last_seen
            ):
                self._decide(mmsi)  # decided until heard again
                continue
            retry_at = self._retry.get(mmsi)
            if retry_at is not None and now < retry_at:
                continue
            verdict = self._goes_dark(vessel, ctx)
            if verdict is None:
                retry = now + RETRY_S  # not yet: look again a little later
                self._retry[mmsi] = retry
                number = self._seq[mmsi]
                waiting[mmsi] = (retry, self._heard_at[mmsi], self._limit_found, number)
                self._park(mmsi, number, retry)
                continue
            self._retry.pop(mmsi, None)
            waiting.pop(mmsi, None)
            if verdict is False:
                self._checked[mmsi] = vessel.last_seen
                self._decide(mmsi)
                continue
            assert vessel.lat is not None and vessel.lon is not None
            zone = self._severe_zone(ctx, vessel.lat, vessel.lon)
            fix_time = vessel.position_time if vessel.position_time is not None else vessel.last_seen
            heard = self._heard_at[mmsi]
            resumed = ctx.tracker.resumed_at
            since_restart = resumed is not None and vessel.last_seen < resumed <= heard
            d = _Dark(
                vessel.last_seen, heard, fix_time, vessel.lat, vessel.lon, vessel.name, zone, since_restart
            )
            self._dark[mmsi] = d
            self.watch(ctx, mmsi)
            self._decide(mmsi)
            self._hold(ctx, mmsi, d)
        if len(self._checked) > 4 * max(len(self._seq), 1000):
            self._checked.clear()
            dark = self._dark  # examined again
            self._decided = {m: n for m, n in self._decided.items() if m in dark}
            self._rebuild()
        elif len(self._out_heap) > 2 * len(self._out) + 1000:
            self._rebuild()  # drop the stale entries of the heap

    def _silent_ones(self, ctx: RuleContext, shortest: float) -> tuple[list[VesselState], list[int]]:
        """The undecided vessels, least recently heard first, up to the first heard within
        `shortest` (those waiting for their retry left out: nothing would be done with them), and
        the vessels met that the tracker no longer has. The runs passed are compacted: entries no
        longer live are dropped. The parked vessels due are taken from the retry heap (re-armed on
        the spot while their silence is still shorter than their limit, as the tick would), and the
        loose ones join in their places of the heard order."""
        now = ctx.now
        get = ctx.tracker.get
        seq_get = self._seq.get
        out_get = self._out.get
        waiting_get = self._waiting.get
        heard_at = self._heard_at
        found: list[tuple[int, VesselState]] = []
        gone: list[int] = []
        chunks = self._chunks
        park = self._park
        for chunk in chunks:  # least recently heard first: stop at the first one heard lately
            mm, numbers = chunk.mmsi, chunk.seq
            keep_mm: list[int] = []
            keep_numbers: list[int] = []
            stop = -1
            for i, mmsi in enumerate(mm):
                number = numbers[i]
                if seq_get(mmsi) != number or out_get(mmsi) == number:
                    continue  # heard since (a later entry), or out of the runs: dropped
                w = waiting_get(mmsi)
                if w is not None and w[3] == number:
                    park(mmsi, number, w[0])  # (taken from the retry heap below if due)
                    continue
                v = get(mmsi)
                if v is None:
                    gone.append(mmsi)
                    continue
                if now - heard_at[mmsi] < shortest:
                    stop = i
                    break
                found.append((number, v))
                keep_mm.append(mmsi)
                keep_numbers.append(number)
            if stop >= 0:
                chunk.mmsi = keep_mm + mm[stop:]
                chunk.seq = keep_numbers + numbers[stop:]
                break
            chunk.mmsi, chunk.seq = keep_mm, keep_numbers
        while chunks and not chunks[0].mmsi:
            chunks.popleft()
        extra = False
        times = self._retry_times
        if times and times[0] <= now:
            decided_get = self._decided.get
            waiting = self._waiting
            retries = self._retry
            buckets = self._retry_at
            taken: set[int] = set()
            rearmed: list[int] | None = None
            again = now + RETRY_S
            while times and times[0] <= now:
                retry = heappop(times)
                pairs = iter(buckets.pop(retry))
                for number, mmsi in zip(pairs, pairs, strict=True):
                    w = waiting_get(mmsi)
                    if (
                        w is None
                        or w[0] != retry
                        or w[3] != number
                        or seq_get(mmsi) != number
                        or out_get(mmsi) != number
                        or decided_get(mmsi) == number
                        or mmsi in taken
                    ):
                        continue  # stale: re-armed, heard since, decided or no longer waiting
                    v = get(mmsi)
                    if v is None:
                        gone.append(mmsi)
                        continue
                    if now - w[1] < w[2]:
                        # still silent for less than its limit: `_goes_dark` would say not yet again
                        retries[mmsi] = again
                        waiting[mmsi] = (again, w[1], w[2], number)
                        if rearmed is None:
                            rearmed = buckets.get(again)
                            if rearmed is None:
                                rearmed = buckets[again] = []
                                heappush(times, again)
                        rearmed.append(number)
                        rearmed.append(mmsi)
                        continue
                    taken.add(mmsi)
                    found.append((number, v))
                    extra = True
        if self._loose:
            decided_get = self._decided.get
            for mmsi, number in list(self._loose.items()):
                if seq_get(mmsi) != number or out_get(mmsi) != number or decided_get(mmsi) == number:
                    del self._loose[mmsi]
                    continue
                v = get(mmsi)
                if v is None:
                    gone.append(mmsi)
                    continue
                found.append((number, v))
                extra = True
        if extra:
            found.sort(key=_first)
        return [v for _, v in found], gone

    def on_forget(self, mmsi: int, ctx: RuleContext) -> None:
        if self._pending:  # the rows before the prune first
            self._catch_up(ctx)
        if not self._started:
            self._start(ctx)
        self._checked.pop(mmsi, None)
        self._retry.pop(mmsi, None)
        self._seq.pop(mmsi, None)
        self._heard_at.pop(mmsi, None)
        self._decided.pop(mmsi, None)
        self._out.pop(mmsi, None)
        self._loose.pop(mmsi, None)
        self._waiting.pop(mmsi, None)
        # a dark vessel stays in self._dark (and its alert active, and watched) until heard again
        # or given up

    # -- internals -------------------------------------------------------------------------------
    def _goes_dark(self, vessel: VesselState, ctx: RuleContext) -> bool | None:
        """True: dark now; None: not (yet) silent long enough; False: will not be, for this silence."""
        p = self.p
        if vessel.lat is None or vessel.lon is None:
            return False
        silent = ctx.now - self._heard_at[vessel.mmsi]
        limit = self._limit_found = self._limit(vessel, ctx)  # (kept for `_waiting`)
        if silent < limit:
            return None
        if not self._enough_messages(vessel):
            return False
        if not self._well_inside(ctx, vessel.lat, vessel.lon):
            return False
        if self._neighbours_heard(ctx, vessel) < p.min_neighbours:
            return None  # maybe the receiver is down: look again later
        return True

    def _limit(self, vessel: VesselState, ctx: RuleContext) -> float:
        """The silence after which this vessel counts as dark (it changes only with its reports)."""
        p = self.p
        moored = is_moored_or_anchored(vessel, vessel.last_seen) or self._berthing(vessel, ctx)
        limit = (p.moored_minutes if moored else p.underway_minutes) * 60.0
        return max(limit, vessel.stale_after())

    def _berthing(self, vessel: VesselState, ctx: RuleContext) -> bool:
        """A ship (not a small craft) last heard in a berth or terminal, slow: coming alongside."""
        sog = vessel.sog
        if sog is None or sog >= self.p.berthing_max_kn or is_small_craft(vessel):
            return False
        return bool(self._berths.member(ctx.zones, vessel.mmsi))

    def _enough_messages(self, vessel: VesselState) -> bool:
        """At least `min_messages` in the `history_minutes` before the last one (counted from the
        newest, and no further than needed: a fast reporter keeps hundreds of message times)."""
        p = self.p
        need = p.min_messages
        since = vessel.last_seen - p.history_minutes * 60.0
        n = 0
        for t in reversed(vessel.message_times):
            if t >= since:
                n += 1
                if n >= need:
                    return True
        return False

    def _well_inside(self, ctx: RuleContext, lat: float, lon: float) -> bool:
        """Inside the watched area and at least `edge_margin_m` from its edge (metres, every part
        and hole of the area counted)."""
        ids = zone_ids_of_kinds(ctx.zones, AREA_KINDS)
        if not ids:
            return True
        margin = self.p.edge_margin_m
        for zid in sorted(ids):
            zone = ctx.zones.zone(zid)
            if zone.contains(lon, lat) and (margin <= 0 or zone.depth_m(lon, lat) >= margin):
                return True
        return False

    def _neighbours_heard(self, ctx: RuleContext, vessel: VesselState) -> int:
        assert vessel.lat is not None and vessel.lon is not None
        need = self.p.min_neighbours
        if need <= 0:
            return 0
        heard = 0
        heard_at = self._heard_at
        recent = max(ctx.now - self.p.underway_minutes * 60.0, heard_at[vessel.mmsi])
        radius = self.p.neighbour_radius_m
        # the most recently heard first; stop at the first one heard before `recent`
        with closing(self._newest_first()) as others:
            for other in others:
                if heard_at[other] <= recent:
                    break
                ov = ctx.tracker.get(other)
                if ov is None or other == vessel.mmsi or ov.own_ship:
                    continue  # (the own ship's reports are not received over the air)
                if ov.lat is None or ov.lon is None:
                    continue
                if approx_distance_m(vessel.lat, vessel.lon, ov.lat, ov.lon) <= radius:
                    heard += 1
                    if heard >= need:
                        break
        return heard

    def _newest_first(self) -> Generator[int, None, None]:
        """Every vessel heard, the most recently heard first: the undecided ones from the runs
        (backwards), the decided ones from their heap, merged by number. (The heap entries taken
        go back when the iteration ends.)"""
        seq_get = self._seq.get
        out_get = self._out.get
        heap = self._out_heap
        taken: list[tuple[int, int]] = []

        def top() -> tuple[int, int]:
            """The most recently heard vessel still out of the runs (number, MMSI); (-1, 0) for none."""
            while heap:
                n, m = heap[0]
                if seq_get(m) == -n and out_get(m) == -n:
                    return -n, m
                heappop(heap)  # stale: dropped for good
            return -1, 0

        try:
            number, mmsi = top()
            for chunk in reversed(self._chunks):
                mm, numbers = chunk.mmsi, chunk.seq
                for i in range(len(mm) - 1, -1, -1):
                    m, n = mm[i], numbers[i]
                    if seq_get(m) != n or out_get(m) == n:
                        continue
                    while number > n:
                        yield mmsi
                        taken.append(heappop(heap))
                        number, mmsi = top()
                    yield m
            while number >= 0:
                yield mmsi
                taken.append(heappop(heap))
                number, mmsi = top()
        finally:
            for item in taken:
                heappush(heap, item)

    def _severe_zone(self, ctx: RuleContext, lat: float, lon: float) -> str | None:
        ids = zone_ids_of_kinds(ctx.zones, self.p.severe_zone_kinds)
        hits = sorted(z.id for z in ctx.zones.zones_at(lon, lat) if z.id in ids)
        return hits[0] if hits else None

    def _hold(self, ctx: RuleContext, mmsi: int, d: _Dark) -> None:
        silent = ctx.now - d.silent_since
        who = _who(d, mmsi)
        where = f" in {d.zone}" if d.zone else ""
        details: dict[str, object] = {
            "last_seen": iso_time(d.last_seen),
            "silent_s": round(silent, 0),
            "last_zone": d.zone,
        }
        if d.since_restart:  # what it sent while vts was down was not heard: silent since the restart
            details["since_restart"] = True
            ago = (ctx.now - d.last_seen) / 60
            message = (
                f"{who} not heard in the {silent / 60:.0f} min since vts restarted (last heard "
                f"{ago:.0f} min ago){where} while vessels near it are heard"
            )
        else:
            message = f"{who} silent for {silent / 60:.0f} min{where} while vessels near it are heard"
        ctx.alerts.hold(
            type=TYPE,
            mmsi=mmsi,
            severity="alarm" if d.zone else "warning",
            message=message,
            lat=d.lat,
            lon=d.lon,
            details=details,
        )


def _first(item: tuple[int, VesselState]) -> int:
    return item[0]


def _who(dark: _Dark, mmsi: int) -> str:
    """The vessel as the alert messages name it (its name as last known, kept while it is dark)."""
    return f"{dark.name} ({mmsi})" if dark.name else str(mmsi)


def _event_time(iso: object, default: float) -> float:
    """An alert's ISO 8601 time as event time (UNIX seconds); `default` when it is not one."""
    if not isinstance(iso, str):
        return default
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


RULE = AisGapRule
