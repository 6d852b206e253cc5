"""Simulated, labelled Callao traffic: `vts simulate`, the live drill feed, and the truth for `vts evaluate`.

world (zones and land in metres) -> routes (land-free visibility graph, lane axes) -> places (berths,
anchor spots, gates) -> traffic (normal traffic, deconflicted) + incidents (one maker per alert type)
-> vessels (AIS transponders) -> encoder (pyais, tag blocks) -> traffic.nmea, truth.json, map.
"""
