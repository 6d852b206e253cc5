"""Feed readers: where raw AIS lines come from (asyncio).

`base` (the `Source` interface, `LineSink`, line splitting, back-off), `tcp`, `udp`, `files`
(recorded logs and standard input), `mqtt` (remote receivers over a broker), `simulated` (the live
simulator), `settings` (the ``sources:`` config entries) and `runner` (several sources into one
core, supervised, and `FeedHealth`, the feeds' health shown on the map).
"""
