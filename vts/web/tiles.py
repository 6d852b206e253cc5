"""Map tiles from a local MBTiles file, served at `/tiles/{z}/{x}/{y}.png`.

MBTiles stores rows in TMS order (y counted from the south), so the XYZ `y` of Leaflet is flipped.
The file is opened read-only (by a `file:` URI built from the resolved path, so a `#`, `?` or `%`
in it is part of the name) and checked at once: a file that is missing, is not an SQLite database,
has no `tiles` table or holds tiles the map cannot show is refused with `MbTilesError`, naming the
file. The content type of the tiles comes from the `format` metadata (png when there is none).
A missing tile is a 404 (Leaflet shows the sea colour there); so is a tile with no data, or one the
database cannot read (damaged pages: said once in the log).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/webp": "image/webp",
}
"""Tile formats the map can show (the MBTiles `format` values and their media types)."""


class MbTilesError(ValueError):
    """The configured MBTiles file cannot be served (the message names the file and says why)."""


class MbTilesNotFound(MbTilesError, FileNotFoundError):
    """The configured MBTiles file does not exist (a FileNotFoundError too)."""


class MbTiles:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise MbTilesNotFound(f"MBTiles file not found: {path}")
        self.path = path
        try:
            self._db = sqlite3.connect(
                path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False
            )
        except sqlite3.Error as e:
            raise MbTilesError(f"cannot open the MBTiles file {path}: {e}") from None
        try:
            self._db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 0")
            fmt = (self._metadata("format") or "png").strip().lower()
        except sqlite3.Error as e:
            self._db.close()
            raise MbTilesError(f"{path} is not a usable MBTiles file: {e}") from None
        if fmt not in CONTENT_TYPES:
            self._db.close()
            raise MbTilesError(
                f"{path} holds tiles in format {fmt!r}, which the map cannot show (png, jpg or webp)"
            )
        self.format = fmt
        self.content_type = CONTENT_TYPES[fmt]
        self._warned = False

    def _metadata(self, name: str) -> str | None:
        """A metadata value (None when there is none, or no metadata table: it is optional here)."""
        try:
            row = self._db.execute("SELECT value FROM metadata WHERE name = ?", (name,)).fetchone()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return None
            raise
        return None if row is None or row[0] is None else str(row[0])

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, or None when there is none (or it cannot be read)."""
        if z < 0 or z > 30 or not (0 <= x < 2**z) or not (0 <= y < 2**z):
            return None
        try:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, 2**z - 1 - y),
            ).fetchone()
        except sqlite3.Error as e:
            if not self._warned:
                self._warned = True
                log.warning(
                    "MBTiles file %s: cannot read a tile (%s); such tiles are left blank", self.path, e
                )
            return None
        data = None if row is None else row[0]
        if isinstance(data, str):
            return data.encode()
        return bytes(data) if isinstance(data, bytes | memoryview) else None  # NULL or a number

    def close(self) -> None:
        self._db.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            z, x = int(request.match_info["z"]), int(request.match_info["x"])
            y = int(request.match_info["y"])
        except ValueError:
            raise web.HTTPNotFound() from None
        data = self.tile(z, x, y)
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data, content_type=self.content_type, headers={"Cache-Control": "max-age=86400"}
        )
