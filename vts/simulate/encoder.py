"""AIS messages -> NMEA 0183 AIVDM lines with NMEA 4.0 tag blocks, using pyais' encoder.

Every line carries a tag block with the receive time, ``\\c:<unix seconds>*hh\\``. A message that
needs several sentences (type 5) gets a sequential message id in the sentences and the tag-block
group ``g:<n>-<total>-<group id>`` on each line, and its sentences are written together.
"""

from __future__ import annotations

from typing import Any

from pyais import encode_dict


def nmea_checksum(body: str) -> str:
    cs = 0
    for ch in body.encode("ascii"):
        cs ^= ch
    return f"{cs:02X}"


def tag_block(fields: str) -> str:
    return f"\\{fields}*{nmea_checksum(fields)}\\"


class Encoder:
    """Stateful: multi-sentence messages take turns through sequence ids 0-9 and group ids 1-9999."""

    def __init__(self) -> None:
        self._seq = 0
        self._group = 0

    def encode(self, time: float, message: dict[str, Any], channel: str) -> list[str]:
        received = int(time)
        sentences = encode_dict(message, talker_id="AI", sentence_type="VDM", radio_channel=channel)
        if len(sentences) == 1:
            return [tag_block(f"c:{received}") + sentences[0]]
        seq = self._seq
        self._seq = (self._seq + 1) % 10
        self._group = self._group % 9999 + 1
        sentences = encode_dict(
            message, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=seq
        )
        total = len(sentences)
        return [
            tag_block(f"g:{n}-{total}-{self._group},c:{received}") + s
            for n, s in enumerate(sentences, start=1)
        ]
