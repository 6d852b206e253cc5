"""cpa: the mover table kept from tick to tick holds what a table built from scratch holds.

A mover's flags (assist, large, service, small craft) are judged again only when the fields they
are judged from change (`vts.rules.cpa._flags_basis`): after every tick, each row of the table must
equal the row a new rule reads from the tracker at that moment."""

from __future__ import annotations

from pytest import MonkeyPatch

from tests.rule_helpers import OPEN_WATER, T0, make_core, merge, moving, offset, static
from vts.rules.base import RuleContext
from vts.rules.cpa import CpaRule

A = 725000601
B = 725000602
C = 725000603
D = 725000604


def test_the_kept_table_equals_one_read_from_scratch_through_static_changes(monkeypatch: MonkeyPatch) -> None:
    """B goes from no static data to a tug, to a long dredger (a former identity, which counts for
    an hour), to a Class B yacht; C declares a length only, then a type; D, a cargo ship, sends
    Class B reports (a second transmitter under its MMSI); an allow-list reload puts C on the tug
    list. The flags follow each change."""
    checked: list[int] = []
    differ: list[float] = []
    sync = CpaRule._sync

    def checked_sync(self: CpaRule, ctx: RuleContext) -> None:
        sync(self, ctx)
        fresh = CpaRule(self.p)
        sync(fresh, ctx)
        kept = {m: self._table[:, s].tolist() for m, s in self._slot_of.items()}
        if kept != {m: fresh._table[:, s].tolist() for m, s in fresh._slot_of.items()}:
            differ.append(ctx.now - T0)  # (not an assert: the engine keeps a failing rule's tick to itself)
        checked.append(len(kept))

    monkeypatch.setattr(CpaRule, "_sync", checked_sync)
    minutes = 75
    reports = merge(
        [static(A, T0, name="CARGO", ship_type=70, length=180)],
        moving(A, T0, minutes=minutes, start=OPEN_WATER, cog=0, sog=9),
        moving(B, T0, minutes=20, start=offset(OPEN_WATER, east_m=800), cog=0, sog=9),
        moving(
            B,
            T0 + 1210,
            minutes=minutes - 21,
            start=offset(OPEN_WATER, east_m=800),
            cog=0,
            sog=9,
            ais_class="B",
        ),
        moving(C, T0, minutes=minutes, start=offset(OPEN_WATER, east_m=-800), cog=0, sog=9),
        static(B, T0 + 60, name="TUG", ship_type=52, length=30),
        static(B, T0 + 300, name="DREDGER", ship_type=33, length=90),
        static(B, T0 + 1200, name="YACHT", ship_type=37, length=12, ais_class="B"),
        [static(D, T0, name="CARGO 2", ship_type=70, length=120)],
        moving(D, T0, minutes=10, start=offset(OPEN_WATER, east_m=1600), cog=0, sog=9),
        moving(D, T0 + 610, minutes=10, start=offset(OPEN_WATER, east_m=1600), cog=0, sog=9, ais_class="B"),
        static(C, T0 + 100, length=15),
        static(C, T0 + 400, name="LAUNCH", ship_type=31, length=15),
    )
    core = make_core()
    reload_at = T0 + 2000
    core.process_many([r for r in reports if r.time < reload_at])
    config = core.config.model_copy(deep=True)
    config.allowlists.tug.append(C)
    core.reload(config)
    core.process_many([r for r in reports if r.time >= reload_at])
    assert differ == []
    assert len(checked) > 400 and max(checked) == 4
    vessel = core.tracker.get(B)
    assert vessel is not None and vessel.former_identities  # the dredger's hour: flags judged each time
