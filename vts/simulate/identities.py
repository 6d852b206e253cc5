"""Plausible identities for simulated vessels: MMSIs with real flag MIDs, names, call signs, IMO numbers."""

from __future__ import annotations

import random

from vts.simulate.vessels import StaticData

FOREIGN_MIDS = (636, 538, 351, 352, 353, 355, 356, 357, 370, 371, 372, 373, 477, 563, 564, 565, 566, 219, 255)
FOREIGN_MIDS += (209, 210, 212, 229, 248, 249, 256, 240, 241, 413, 414, 440, 441, 431, 311, 725, 710, 730)
PERU_MID = 760

_SHIP_WORDS = (
    "AURORA",
    "PACIFIC",
    "ANDES",
    "CONDOR",
    "HUMBOLDT",
    "ATLAS",
    "ORION",
    "POLARIS",
    "NEPTUNE",
    "VEGA",
    "LIBERTY",
    "HORIZON",
    "SPIRIT",
    "STAR",
    "GLORY",
    "PIONEER",
    "VOYAGER",
    "HARMONY",
    "OCEAN",
    "EXPRESS",
    "FORTUNE",
    "MERIDIAN",
    "SIRIUS",
    "ALTAIR",
    "CASTOR",
    "TITAN",
    "COLUMBUS",
    "MAGELLAN",
    "INCA",
    "LIMA",
)
_CONTAINER_PREFIX = ("MSC", "MAERSK", "CMA CGM", "COSCO", "HAPAG", "ONE", "EVER", "SEASPAN", "ZIM", "HMM")
_BULK_PREFIX = ("CAPE", "GOLDEN", "STAR", "ALAM", "GENCO", "NAVIOS", "PACIFIC", "SEA", "BULK", "MINERAL")
_TANKER_PREFIX = (
    "NORDIC",
    "TORM",
    "STENA",
    "ARDMORE",
    "SCORPIO",
    "HAFNIA",
    "MARE",
    "NAVIG8",
    "BW",
    "SONANGOL",
)
_FISHING = (
    "SAN PEDRO",
    "VIRGEN DEL CARMEN",
    "DON LUCHO",
    "MI PATRICIA",
    "SENOR DE LUREN",
    "SANTA ROSA",
    "EL PESCADOR",
    "DON JOSE",
    "MARIA AUXILIADORA",
    "NAZARENO",
    "ROSA MISTICA",
    "CRISTO REY",
    "SAN ANDRES",
    "LA PUNTENA",
    "DONA PETRONILA",
    "SAN JUAN",
    "LOBO DE MAR",
    "TIBURON",
    "GAVIOTA",
    "PELICANO",
    "CHORRILLANO",
    "PIRATA",
)
_PLEASURE = ("BRISA", "ALBATROS", "MARISOL", "ONDINA", "SIRENA", "DELFIN", "NAUTILUS", "CORMORAN", "ESTRELLA")


class Identities:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[int] = set()
        self._names: set[str] = set()

    def mmsi(self, mid: int | None = None, *, peru: bool = False) -> int:
        for _ in range(1000):
            m = PERU_MID if peru else (mid if mid is not None else self.rng.choice(FOREIGN_MIDS))
            value = m * 1_000_000 + self.rng.randrange(1000, 999_999)
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("ran out of MMSIs")

    def reserve(self, mmsi: int) -> int:
        self.used.add(mmsi)
        return mmsi

    def _unique(self, make: str) -> str:
        name = make
        n = 2
        while name in self._names:
            name = f"{make} {n}"
            n += 1
        self._names.add(name)
        return name[:20]

    def imo(self) -> int:
        digits = [self.rng.randrange(1, 10)] + [self.rng.randrange(10) for _ in range(5)]
        check = sum(d * w for d, w in zip(digits, (7, 6, 5, 4, 3, 2), strict=True)) % 10
        return int("".join(map(str, digits)) + str(check))

    def callsign(self, peru: bool = False) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        if peru:
            return (
                "OA"
                + "".join(self.rng.choice(letters) for _ in range(1))
                + str(self.rng.randrange(1000, 9999))
            )
        return "".join(self.rng.choice(letters) for _ in range(2)) + str(self.rng.randrange(100, 9999))

    def merchant(self, kind: str, destination: str, eta: tuple[int, int, int, int]) -> StaticData:
        rng = self.rng
        if kind == "container":
            name = f"{rng.choice(_CONTAINER_PREFIX)} {rng.choice(_SHIP_WORDS)}"
            length, beam = rng.choice(((294, 32), (300, 48), (334, 48), (260, 32), (366, 51)))
            ship_type, draught = 71, round(rng.uniform(10.5, 14.5), 1)
        elif kind == "bulk":
            name = f"{rng.choice(_BULK_PREFIX)} {rng.choice(_SHIP_WORDS)}"
            length, beam = rng.choice(((190, 32), (229, 32), (180, 30), (200, 32)))
            ship_type, draught = 70, round(rng.uniform(8.0, 12.5), 1)
        elif kind == "tanker":
            name = f"{rng.choice(_TANKER_PREFIX)} {rng.choice(_SHIP_WORDS)}"
            length, beam = rng.choice(((183, 32), (228, 32), (250, 44), (145, 23)))
            ship_type, draught = 80, round(rng.uniform(8.0, 13.8), 1)
        else:  # general cargo
            name = f"{rng.choice(_SHIP_WORDS)} {rng.choice(_SHIP_WORDS)}"
            length, beam = rng.choice(((120, 20), (140, 22), (160, 25)))
            ship_type, draught = 70, round(rng.uniform(6.0, 9.0), 1)
        return StaticData(
            name=self._unique(name),
            ship_type=ship_type,
            length_m=length,
            beam_m=beam,
            callsign=self.callsign(),
            imo=self.imo(),
            draught=draught,
            destination=destination,
            eta=eta,
        )

    def fishing(self, industrial: bool = False) -> StaticData:
        name = self._unique(
            self.rng.choice(_FISHING) + (" " + str(self.rng.randrange(1, 30)) if industrial else "")
        )
        if industrial:
            return StaticData(
                name,
                30,
                self.rng.randrange(40, 70),
                self.rng.randrange(9, 13),
                self.callsign(True),
                self.imo(),
                round(self.rng.uniform(4.0, 6.5), 1),
                "CALLAO",
            )
        return StaticData(name, 30, self.rng.randrange(9, 18), self.rng.randrange(3, 6), self.callsign(True))

    def pleasure(self) -> StaticData:
        return StaticData(
            self._unique(self.rng.choice(_PLEASURE)), 37, self.rng.randrange(7, 15), 3, self.callsign(True)
        )

    def service(self, kind: str, n: int) -> StaticData:
        if kind == "tug":
            return StaticData(
                self._unique(f"RAM {self.rng.choice(_SHIP_WORDS)}"),
                52,
                32,
                12,
                self.callsign(True),
                self.imo(),
                4.5,
                "CALLAO",
            )
        if kind == "pilot":
            return StaticData(
                self._unique(f"PRACTICOS CALLAO {n}"), 50, 16, 5, self.callsign(True), 0, 1.8, "CALLAO"
            )
        return StaticData(
            self._unique(f"BAP RIO {self.rng.choice(('ZARUMILLA', 'TUMBES', 'CHIRA', 'RIMAC'))}"),
            55,
            35,
            7,
            self.callsign(True),
            0,
            2.5,
            "PATROL",
        )
