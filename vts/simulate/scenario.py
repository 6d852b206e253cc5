"""One simulation run: the bay, its normal traffic and the injected incidents, for one seed.

Every random choice comes from `random.Random` instances seeded from the run's seed (one stream
for the scenario, one per vessel transmitter), never from the global generator or the clock, so
the same seed and options always give the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from vts.config import Config
from vts.simulate.deconflict import Deconflictor
from vts.simulate.encoder import Encoder
from vts.simulate.identities import Identities
from vts.simulate.incidents import INCIDENT_TYPES, Incident, IncidentMaker
from vts.simulate.places import Places
from vts.simulate.traffic import Traffic
from vts.simulate.vessels import Emission, SimVessel
from vts.simulate.world import World

DEFAULT_START = 1772452800.0
"""2026-03-02T12:00:00Z (07:00 in Callao): the default start of a simulation."""
DEFAULT_VESSELS = 55
"""About how many vessels the normal traffic keeps in the area at once."""
MESSAGE_LOSS = 0.03
DECONFLICT_UP_TO = 150
"""Above this many vessels (load tests) the traffic is not deconflicted."""


@dataclass(slots=True)
class Simulation:
    world: World
    seed: int
    start: float
    end: float
    vessels: list[SimVessel]
    incidents: list[Incident]
    deconflicted: bool = True
    options: dict[str, object] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    """Incident types asked for that could not be placed (`IncidentMaker.left_out`)."""

    def emissions(self, loss: float = MESSAGE_LOSS) -> Iterator[Emission]:
        """Every received message of the run, in time order."""
        out: list[tuple[float, int, int, Emission]] = []
        for index, v in enumerate(self.vessels):
            rng = random.Random(f"{self.seed}/tx/{index}/{v.mmsi}")
            for n, e in enumerate(v.emissions(self.world, rng, self.start, self.end, loss)):
                out.append((e.time, index, n, e))
        out.sort(key=lambda item: item[:3])
        for item in out:
            yield item[3]

    def nmea_lines(self, loss: float = MESSAGE_LOSS) -> Iterator[str]:
        encoder = Encoder()
        rng = random.Random(f"{self.seed}/channels")
        for e in self.emissions(loss):
            channel = "A" if rng.random() < 0.5 else "B"
            yield from encoder.encode(e.time, e.message, channel)


def simulate(
    config: Config,
    *,
    seed: int,
    hours: float,
    start: float = DEFAULT_START,
    incident_types: list[str] | None = None,
    vessels: int | None = None,
) -> Simulation:
    """Build a run: normal traffic for `hours` from `start`, then the incidents asked for
    (all types when `incident_types` is None, none when it is empty)."""
    world = World.from_config(config)
    rng = random.Random(f"{seed}/scenario")
    end = start + hours * 3600.0
    target = vessels or DEFAULT_VESSELS
    scale = target / DEFAULT_VESSELS
    deconflict = target <= DECONFLICT_UP_TO
    places = Places.build(world, rng)
    ids = Identities(rng)
    dc = Deconflictor(world, start, end, enabled=deconflict)
    traffic = Traffic(world, places, rng, ids, start, end, dc)
    fleet = traffic.build(scale=min(scale, 3.0))
    if scale > 3.0:
        fleet += traffic.through_traffic(target - round(3.0 * DEFAULT_VESSELS))
    maker = IncidentMaker(world, places, traffic, rng, ids, start, end)
    wanted = list(INCIDENT_TYPES) if incident_types is None else incident_types
    incidents = maker.make(wanted)
    fleet = traffic.vessels + maker.vessels
    return Simulation(
        world=world,
        seed=seed,
        start=start,
        end=end,
        vessels=fleet,
        incidents=incidents,
        deconflicted=deconflict,
        options={"hours": hours, "vessels": target, "incident_types": wanted, "config": config},
        left_out=sorted(maker.left_out),
    )
