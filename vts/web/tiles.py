"""Map tiles from a local MBTiles file, served at `/tiles/{z}/{x}/{y}.png`.

MBTiles stores rows in TMS order (y counted from the south), so the XYZ `y` of Leaflet is flipped.
The file is opened read-only; a missing tile is a 404 (Leaflet shows the sea colour there).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiohttp import web


class MbTiles:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"MBTiles file not found: {path}")
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.format = self._metadata("format") or "png"

    def _metadata(self, name: str) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM metadata WHERE name = ?", (name,)).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else str(row[0])

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        if z < 0 or z > 30 or not (0 <= x < 2**z) or not (0 <= y < 2**z):
            return None
        row = self._db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, 2**z - 1 - y),
        ).fetchone()
        return None if row is None else bytes(row[0])

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
        content_type = "image/jpeg" if self.format in ("jpg", "jpeg") else "image/png"
        return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "max-age=86400"})
