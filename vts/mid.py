"""MMSI formats and flags: what kind of station an MMSI is (ITU-R M.585) and its country (the MID).

An MMSI is nine digits; as an integer the leading zeros of coast stations (``00MIDxxxx``) and group
calls (``0MIDxxxxx``) are lost, so every number is read zero-padded to nine digits. The formats:

========================  ==============  =====================================================
kind                      pattern         example
========================  ==============  =====================================================
``ship``                  ``MIDxxxxxx``   760123456 (Peru), MID 201-775
``group``                 ``0MIDxxxxx``   076012345
``coast_station``         ``00MIDxxxx``   007601234
``sar_aircraft``          ``111MIDxxx``   111760123
``aton``                  ``99MIDxxxx``   997601234
``auxiliary_craft``       ``98MIDxxxx``   987601234 (craft associated with a parent ship)
``handheld``              ``8MIDxxxxx``   876012345 (handheld VHF / diver radio)
``sart``                  ``970xxyyyy``   AIS search-and-rescue transmitter
``mob``                   ``972xxyyyy``   man-overboard device
``epirb``                 ``974xxyyyy``   EPIRB with AIS locator
``invalid``               anything else   000000000, 123456789, a MID no country holds ...
========================  ==============  =====================================================

`flag_of(mmsi)` gives the country of the MID as a `Flag` (a ``str`` holding the country name, with
``.iso`` the ISO 3166-1 alpha-2 code and ``.mid``), or None when the MMSI carries no valid MID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MmsiKind = Literal[
    "ship",
    "group",
    "coast_station",
    "sar_aircraft",
    "aton",
    "auxiliary_craft",
    "handheld",
    "sart",
    "mob",
    "epirb",
    "amrd",
    "invalid",
]

DISTRESS_KINDS: frozenset[MmsiKind] = frozenset({"sart", "mob", "epirb"})
"""Kinds of autonomous distress devices (AIS-SART, MOB, EPIRB-AIS)."""

DUMMY_MMSIS: frozenset[int] = frozenset(
    {
        0,
        1193046,  # 0x123456: factory default of several transponders
        12345678,
        123456789,
        987654321,
        100000000,
        *(int(str(d) * 9) for d in range(1, 10)),  # 111111111 ... 999999999
        *(mid * 1_000_000 for mid in range(200, 800)),  # 412000000: the flag's MID and six zeros
    }
)
"""Placeholder MMSIs that transponders are shipped with or that people type in. A ship-format
number that is a MID followed by six zeros (412000000, 273000000, 503000000 ...) is what a
transponder set up with only its flag's MID transmits: no administration assigns it, and in recorded
traffic each is shared by unrelated vessels (412000000 heard 380 km apart within minutes in the
AMSA satellite data)."""

# MID -> (ISO 3166-1 alpha-2, country or territory), from the ITU table of Maritime Identification
# Digits (Radio Regulations Appendix 43). Territories carry their own ISO code where they have one.
_MID_TABLE = """
201 AL Albania|202 AD Andorra|203 AT Austria|204 PT Portugal (Azores)|205 BE Belgium|206 BY Belarus
207 BG Bulgaria|208 VA Vatican City|209 CY Cyprus|210 CY Cyprus|211 DE Germany|212 CY Cyprus
213 GE Georgia|214 MD Moldova|215 MT Malta|216 AM Armenia|218 DE Germany|219 DK Denmark|220 DK Denmark
224 ES Spain|225 ES Spain|226 FR France|227 FR France|228 FR France|229 MT Malta|230 FI Finland
231 FO Faroe Islands|232 GB United Kingdom|233 GB United Kingdom|234 GB United Kingdom
235 GB United Kingdom|236 GI Gibraltar|237 GR Greece|238 HR Croatia|239 GR Greece|240 GR Greece
241 GR Greece|242 MA Morocco|243 HU Hungary|244 NL Netherlands|245 NL Netherlands|246 NL Netherlands
247 IT Italy|248 MT Malta|249 MT Malta|250 IE Ireland|251 IS Iceland|252 LI Liechtenstein
253 LU Luxembourg|254 MC Monaco|255 PT Portugal (Madeira)|256 MT Malta|257 NO Norway|258 NO Norway
259 NO Norway|261 PL Poland|262 ME Montenegro|263 PT Portugal|264 RO Romania|265 SE Sweden|266 SE Sweden
267 SK Slovakia|268 SM San Marino|269 CH Switzerland|270 CZ Czech Republic|271 TR Turkey|272 UA Ukraine
273 RU Russia|274 MK North Macedonia|275 LV Latvia|276 EE Estonia|277 LT Lithuania|278 SI Slovenia
279 RS Serbia
301 AI Anguilla|303 US United States (Alaska)|304 AG Antigua and Barbuda|305 AG Antigua and Barbuda
306 CW Curaçao|307 AW Aruba|308 BS Bahamas|309 BS Bahamas|310 BM Bermuda|311 BS Bahamas|312 BZ Belize
314 BB Barbados|316 CA Canada|319 KY Cayman Islands|321 CR Costa Rica|323 CU Cuba|325 DM Dominica
327 DO Dominican Republic|329 GP Guadeloupe|330 GD Grenada|331 GL Greenland|332 GT Guatemala
334 HN Honduras|336 HT Haiti|338 US United States|339 JM Jamaica|341 KN Saint Kitts and Nevis
343 LC Saint Lucia|345 MX Mexico|347 MQ Martinique|348 MS Montserrat|350 NI Nicaragua|351 PA Panama
352 PA Panama|353 PA Panama|354 PA Panama|355 PA Panama|356 PA Panama|357 PA Panama
358 PR Puerto Rico|359 SV El Salvador|361 PM Saint Pierre and Miquelon|362 TT Trinidad and Tobago
364 TC Turks and Caicos Islands|366 US United States|367 US United States|368 US United States
369 US United States|370 PA Panama|371 PA Panama|372 PA Panama|373 PA Panama|374 PA Panama
375 VC Saint Vincent and the Grenadines|376 VC Saint Vincent and the Grenadines
377 VC Saint Vincent and the Grenadines|378 VG British Virgin Islands|379 VI US Virgin Islands
401 AF Afghanistan|403 SA Saudi Arabia|405 BD Bangladesh|408 BH Bahrain|410 BT Bhutan|412 CN China
413 CN China|414 CN China|416 TW Taiwan|417 LK Sri Lanka|419 IN India|422 IR Iran|423 AZ Azerbaijan
425 IQ Iraq|428 IL Israel|431 JP Japan|432 JP Japan|434 TM Turkmenistan|436 KZ Kazakhstan
437 UZ Uzbekistan|438 JO Jordan|440 KR South Korea|441 KR South Korea|443 PS Palestine
445 KP North Korea|447 KW Kuwait|450 LB Lebanon|451 KG Kyrgyzstan|453 MO Macao|455 MV Maldives
457 MN Mongolia|459 NP Nepal|461 OM Oman|463 PK Pakistan|466 QA Qatar|468 SY Syria
470 AE United Arab Emirates|471 AE United Arab Emirates|472 TJ Tajikistan|473 YE Yemen|475 YE Yemen
477 HK Hong Kong|478 BA Bosnia and Herzegovina
501 TF Adélie Land (France)|503 AU Australia|506 MM Myanmar|508 BN Brunei|510 FM Micronesia
511 PW Palau|512 NZ New Zealand|514 KH Cambodia|515 KH Cambodia|516 CX Christmas Island
518 CK Cook Islands|520 FJ Fiji|523 CC Cocos (Keeling) Islands|525 ID Indonesia|529 KI Kiribati
531 LA Laos|533 MY Malaysia|536 MP Northern Mariana Islands|538 MH Marshall Islands
540 NC New Caledonia|542 NU Niue|544 NR Nauru|546 PF French Polynesia|548 PH Philippines
550 TL Timor-Leste|553 PG Papua New Guinea|555 PN Pitcairn Islands|557 SB Solomon Islands
559 AS American Samoa|561 WS Samoa|563 SG Singapore|564 SG Singapore|565 SG Singapore
566 SG Singapore|567 TH Thailand|570 TO Tonga|572 TV Tuvalu|574 VN Vietnam|576 VU Vanuatu
577 VU Vanuatu|578 WF Wallis and Futuna
601 ZA South Africa|603 AO Angola|605 DZ Algeria|607 TF Saint Paul and Amsterdam Islands (France)
608 SH Ascension Island|609 BI Burundi|610 BJ Benin|611 BW Botswana|612 CF Central African Republic
613 CM Cameroon|615 CG Congo|616 KM Comoros|617 CV Cabo Verde|618 TF Crozet Archipelago (France)
619 CI Côte d'Ivoire|620 KM Comoros|621 DJ Djibouti|622 EG Egypt|624 ET Ethiopia|625 ER Eritrea
626 GA Gabon|627 GH Ghana|629 GM Gambia|630 GW Guinea-Bissau|631 GQ Equatorial Guinea|632 GN Guinea
633 BF Burkina Faso|634 KE Kenya|635 TF Kerguelen Islands (France)|636 LR Liberia|637 LR Liberia
638 SS South Sudan|642 LY Libya|644 LS Lesotho|645 MU Mauritius|647 MG Madagascar|649 ML Mali
650 MZ Mozambique|654 MR Mauritania|655 MW Malawi|656 NE Niger|657 NG Nigeria|659 NA Namibia
660 RE Réunion|661 RW Rwanda|662 SD Sudan|663 SN Senegal|664 SC Seychelles|665 SH Saint Helena
666 SO Somalia|667 SL Sierra Leone|668 ST Sao Tome and Principe|669 SZ Eswatini|670 TD Chad
671 TG Togo|672 TN Tunisia|674 TZ Tanzania|675 UG Uganda|676 CD DR Congo|677 TZ Tanzania
678 ZM Zambia|679 ZW Zimbabwe
701 AR Argentina|710 BR Brazil|720 BO Bolivia|725 CL Chile|730 CO Colombia|735 EC Ecuador
740 FK Falkland Islands|745 GF French Guiana|750 GY Guyana|755 PY Paraguay|760 PE Peru|765 SR Suriname
770 UY Uruguay|775 VE Venezuela
"""


class Flag(str):
    """A flag state: the country name (as the string value) with its ISO code and the MID it came from."""

    iso: str
    mid: int

    def __new__(cls, country: str, iso: str, mid: int) -> Flag:
        flag = super().__new__(cls, country)
        flag.iso = iso
        flag.mid = mid
        return flag

    @property
    def country(self) -> str:
        return str.__str__(self)


def _parse_mid_table(text: str) -> dict[int, Flag]:
    table: dict[int, Flag] = {}
    for line in text.strip().splitlines():
        for entry in line.split("|"):
            mid_s, iso, country = entry.strip().split(" ", 2)
            table[int(mid_s)] = Flag(country, iso, int(mid_s))
    return table


MIDS: dict[int, Flag] = _parse_mid_table(_MID_TABLE)
"""Every ITU-assigned MID (201-775) with its flag."""


def country_of_mid(mid: int) -> Flag | None:
    return MIDS.get(mid)


@dataclass(frozen=True, slots=True)
class MmsiInfo:
    mmsi: int
    kind: MmsiKind
    mid: int | None
    """The MID the format carries (None for SART/MOB/EPIRB/AMRD and invalid numbers)."""
    flag: Flag | None
    problem: str | None
    """Why the MMSI is invalid (None when it is valid)."""


def classify_mmsi(mmsi: int) -> MmsiInfo:
    """Kind, MID, flag and (for invalid numbers) the reason, for any integer."""
    if mmsi in DUMMY_MMSIS:
        return MmsiInfo(mmsi, "invalid", None, None, "known placeholder MMSI")
    if mmsi < 0 or mmsi > 999_999_999:
        return MmsiInfo(mmsi, "invalid", None, None, "not nine digits")
    s = f"{mmsi:09d}"
    if s.startswith("000"):
        return MmsiInfo(mmsi, "invalid", None, None, f"not nine digits ({mmsi})")
    if s.startswith(("970", "972", "974", "979")):
        kind: MmsiKind = {"970": "sart", "972": "mob", "974": "epirb", "979": "amrd"}[s[:3]]  # type: ignore[assignment]
        return MmsiInfo(mmsi, kind, None, None, None)
    if s.startswith("00"):
        kind, mid_s = "coast_station", s[2:5]
    elif s.startswith("0"):
        kind, mid_s = "group", s[1:4]
    elif s.startswith("111"):
        kind, mid_s = "sar_aircraft", s[3:6]
    elif s.startswith("99"):
        kind, mid_s = "aton", s[2:5]
    elif s.startswith("98"):
        kind, mid_s = "auxiliary_craft", s[2:5]
    elif s.startswith("8"):
        kind, mid_s = "handheld", s[1:4]
    elif s[0] in "234567":
        kind, mid_s = "ship", s[:3]
    else:
        return MmsiInfo(mmsi, "invalid", None, None, f"no MMSI format starts with {s[:3]}")
    mid = int(mid_s)
    flag = MIDS.get(mid)
    if flag is None:
        if kind == "ship":
            problem = f"MID {mid_s} is not assigned to any country"
        else:
            problem = (
                f"{kind.replace('_', ' ')} format with MID {mid_s}, which is not assigned to any country"
            )
        return MmsiInfo(mmsi, "invalid", mid, None, problem)
    return MmsiInfo(mmsi, kind, mid, flag, None)


def mmsi_kind(mmsi: int) -> MmsiKind:
    """What kind of station the MMSI belongs to (see the module docstring)."""
    return classify_mmsi(mmsi).kind


def flag_of(mmsi: int) -> Flag | None:
    """The flag (country of the MID) of an MMSI, or None when it has no valid MID."""
    return classify_mmsi(mmsi).flag


def is_distress_device(mmsi: int) -> bool:
    return mmsi_kind(mmsi) in DISTRESS_KINDS
