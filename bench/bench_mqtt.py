"""MQTT benchmark: alert throughput through the publisher, and NMEA-line-to-subscriber latency.

    .venv/bin/python bench/bench_mqtt.py [--alerts 5000] [--ships 100] [--rate 200] [--broker-nodelay]

Starts its own Mosquitto (Debian's /usr/sbin/mosquitto) on a free port on 127.0.0.1.

1. Throughput: `--alerts` alert steps put in a SQLite alert store (a file, as in production), then
   drained by `MqttPublisher` at QoS 1 (each step = the alert message + its retained alert-state,
   both acknowledged, then marked delivered in SQLite). Reports alerts per second until the last
   PUBACK, and until the last message reached a subscriber.
2. Latency: simulated traffic (ships speeding in Callao's main anchorage) fed line by line at
   `--rate` lines per second into the real core with the store and the publisher, as the daemon
   does. For every alert step: the time from the start of feeding the NMEA line that caused it to its
   arrival at a subscriber (in another process). Reports median, p90, p99 and max.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from tests.fixtures.mqtt_broker import Broker, free_port, mosquitto_binary  # noqa: E402
from tests.fixtures.mqtt_scenario import speeding_ships  # noqa: E402
from vts.alerts.model import Alert, make_alert_id  # noqa: E402
from vts.alerts.store import AlertStore  # noqa: E402
from vts.config import load_config  # noqa: E402
from vts.core import Core  # noqa: E402
from vts.mqtt.publisher import MqttPublisher  # noqa: E402
from vts.mqtt.urls import settings_from_url  # noqa: E402

PREFIX = "bench/vts/v1"


SUBSCRIBER = """
import asyncio, json, socket, sys, time
import aiomqtt

async def main(host, port, topic, expected):
    seen = []
    opts = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5, socket_options=opts) as c:
        await c.subscribe(topic, qos=1)
        print("ready", flush=True)
        try:
            async with asyncio.timeout(600):
                async for m in c.messages:
                    seen.append((time.time(), m.payload))
                    if len(seen) >= expected:
                        break
        except TimeoutError:
            pass
    for t, payload in seen:
        a = json.loads(payload)
        print(t, a["id"], a["state"], a["time"])

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
"""


class ProcessSubscriber:
    """A subscriber in its own process (no GIL shared with the publisher); records time.time() at each
    arrival and reports (arrival time, alert key) once `expected` messages arrived."""

    def __init__(self, broker: Broker, topic: str, expected: int) -> None:
        self.args = [sys.executable, "-c", SUBSCRIBER, broker.host, str(broker.port), topic, str(expected)]
        self.arrivals: list[tuple[float, tuple[str, str, str]]] = []

    def __enter__(self) -> ProcessSubscriber:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"
        return self

    def collect(self, timeout: float = 60) -> None:
        out, _ = self.proc.communicate(timeout=timeout)
        for line in out.splitlines():
            t, alert_id, state, when = line.split()
            self.arrivals.append((float(t), (alert_id, state, when)))

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait(5)


def key(alert: Alert) -> tuple[str, str, str]:
    d = alert.to_dict()
    return (d["id"], d["state"], d["time"])


def synthetic_alert(n: int) -> Alert:
    mmsi = 760_000_000 + n % 5000
    t = 1_767_225_600.0 + n
    return Alert(
        id=make_alert_id("speeding", mmsi, None, "anchorage_main", t),
        type="speeding",
        severity="warning",
        state="raised",
        mmsi=mmsi,
        time=t,
        started=t,
        message=f"{mmsi} at 15.0 kn in anchorage_main",
        lat=-12.0,
        lon=-77.2,
        zone="anchorage_main",
        details={"sog_kn": 15.0, "limit_kn": 8.0},
        rule={"id": "speeding"},
    )


def settings(broker: Broker, **extra: Any) -> Any:
    return settings_from_url(broker.url).model_copy(
        update={"prefix": PREFIX, "client_id": f"bench-{os.getpid()}", "vessels": False, **extra}
    )


async def throughput(broker: Broker, n: int, window: int, workdir: Path) -> dict[str, float]:
    store = AlertStore(workdir / f"throughput-{window}.sqlite3")
    for i in range(n):
        store.record(synthetic_alert(i))
    store.commit()
    with ProcessSubscriber(broker, f"{PREFIX}/alert/#", n) as sub:
        start = time.time()
        async with MqttPublisher(settings(broker, publish_window=window), None, store) as publisher:
            publisher.notify()
            ok = await publisher.flush(600)
            acked = time.time()
        await asyncio.to_thread(sub.collect)
    assert ok and store.pending_count() == 0, "not everything was delivered"
    last = max(t for t, _ in sub.arrivals) if sub.arrivals else float("nan")
    store.close()
    return {
        "alerts": n,
        "received": len(sub.arrivals),
        "acked_per_s": n / (acked - start),
        "received_per_s": len(sub.arrivals) / (last - start),
    }


async def latency(broker: Broker, ships: int, rate: float, workdir: Path) -> dict[str, float]:
    config = load_config()
    lines = speeding_ships(ships, still_fast=0)
    dry = Core(config)
    expected = sum(len(dry.feed_line(line, "bench")) for line in lines) + len(dry.finish())
    store = AlertStore(workdir / "latency.sqlite3")
    core = Core(config, store=store)
    caused_at: dict[tuple[str, str, str], float] = {}
    feeding: list[float] = [0.0]
    core.add_alert_listener(lambda a: caused_at.setdefault(key(a), feeding[0]))
    with ProcessSubscriber(broker, f"{PREFIX}/alert/#", expected) as sub:
        async with MqttPublisher(settings(broker), core, store) as publisher:
            interval = 1.0 / rate
            next_at = time.time()
            for line in lines:
                now = time.time()
                # pace the feed like a live receiver; always let the loop run (as the sources do)
                await asyncio.sleep(max(0.0, next_at - now))
                feeding[0] = time.time()
                core.feed_line(line, "bench")
                next_at += interval
            core.finish()
            assert await publisher.flush(60)
        await asyncio.to_thread(sub.collect)
    delays = sorted((t - caused_at[k]) * 1000.0 for t, k in sub.arrivals if k in caused_at)
    store.close()
    q = statistics.quantiles(delays, n=100, method="inclusive")
    return {
        "lines": len(lines),
        "alerts": len(caused_at),
        "received": len(delays),
        "median_ms": statistics.median(delays),
        "p90_ms": q[89],
        "p99_ms": q[98],
        "max_ms": delays[-1],
    }


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=5_000)
    ap.add_argument("--ships", type=int, default=100)
    ap.add_argument("--rate", type=float, default=200.0, help="NMEA lines per second in the latency run")
    ap.add_argument("--broker-nodelay", action="store_true", help="mosquitto with set_tcp_nodelay true")
    args = ap.parse_args()
    exe = mosquitto_binary()
    if exe is None:
        print("no mosquitto binary (apt-get install mosquitto)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["set_tcp_nodelay true"] if args.broker_nodelay else []
        broker = Broker(executable=exe, directory=Path(tmp), port=free_port(), extra_config=extra)
        broker.start()
        try:
            nodelay = "set_tcp_nodelay true" if args.broker_nodelay else "default config"
            print(
                f"mosquitto ({nodelay}) on {broker.url}; "
                f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
            )
            for window in (1, 50):
                r = await throughput(broker, args.alerts, window, Path(tmp))
                print(
                    f"throughput, QoS 1, window {window:>2}: {r['alerts']} alerts acknowledged at "
                    f"{r['acked_per_s']:,.0f} alerts/s ({2 * r['acked_per_s']:,.0f} messages/s); "
                    f"subscriber got {r['received']} at {r['received_per_s']:,.0f} alerts/s"
                )
            r = await latency(broker, args.ships, args.rate, Path(tmp))
            print(
                f"latency, NMEA line -> subscriber ({r['lines']} lines at {args.rate:g}/s, "
                f"{r['alerts']} alert steps, {r['received']} received): median {r['median_ms']:.2f} ms, "
                f"p90 {r['p90_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms"
            )
        finally:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
