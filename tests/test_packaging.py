"""An installed wheel (not only a source checkout) carries what the embedded defaults need: the
Callao configuration, its coastline and attribution, and the sample log the daemon replays.

`vts/defaults/` links to `config/` and `replay/` in the source tree; setuptools copies the linked
files into the wheel (package data `defaults/*`). Here the package is copied the way a wheel
holds it (links followed, no source tree around it) and imported from a bare directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = ROOT / "vts" / "defaults"


def test_every_default_links_to_a_file_of_the_source_tree() -> None:
    names = sorted(p.name for p in DEFAULTS.iterdir())
    assert names == [
        "ATTRIBUTION.md",
        "callao_bay.yaml",
        "callao_day.nmea",
        "callao_land.geojson",
        "callao_normal_traffic.npz",
    ]
    for p in DEFAULTS.iterdir():
        assert p.resolve().is_file(), f"{p} points nowhere"
        assert p.resolve().parent.name in ("config", "replay")


def test_package_data_ships_the_defaults() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "defaults/*" in meta["tool"]["setuptools"]["package-data"]["vts"]


def test_a_wheel_layout_loads_its_config_and_finds_the_sample_log(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(ROOT / "vts", site / "vts", symlinks=False, ignore=shutil.ignore_patterns("__pycache__"))
    probe = (
        "import vts.config as c, vts.samples as s\n"
        "cfg = c.load_config()\n"
        "print(c.default_config_path())\n"
        "print(s.SAMPLE_LOG)\n"
        "print(len(cfg.zones), len(cfg.land_polygons()) > 0)\n"
        "from vts.normalcy import NormalcyModel\n"
        "model = cfg.resolve_path(cfg.rules['course_anomaly'].model_path)\n"
        "print(model, NormalcyModel.load(model).cell_m)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    config_path, sample, summary = Path(out[0]), Path(out[1]), out[2]
    model_path, cell_m = out[3].split()
    assert Path(model_path) == site / "vts" / "defaults" / "callao_normal_traffic.npz" and float(cell_m) > 0
    assert config_path == site / "vts" / "defaults" / "callao_bay.yaml"
    assert sample == site / "vts" / "defaults" / "callao_day.nmea" and sample.stat().st_size > 1_000_000
    n_zones, has_land = summary.split()
    assert int(n_zones) >= 20 and has_land == "True"
