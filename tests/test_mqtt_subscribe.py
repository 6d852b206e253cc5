"""`vts subscribe`: active alerts first (retained state), then live ones, filtered."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys

import pytest

from tests.fixtures.mqtt_broker import Broker, BrokerFactory, Collector
from tests.test_mqtt_publisher import PREFIX, fast_settings, make_alert
from vts.alerts.model import Alert
from vts.mqtt.outbox import MemoryOutbox
from vts.mqtt.publisher import MqttPublisher
from vts.mqtt.subscribe import AlertFilter, AlertPrinter, run_subscriber
from vts.mqtt.urls import settings_from_url

pytestmark = pytest.mark.mqtt


def alert(n: int, severity: str, type_: str, zone: str | None = None, state: str = "raised") -> Alert:
    a = make_alert(n, state, type_=type_, severity=severity)
    a.zone = zone
    return a


async def publish(broker: Broker, alerts: list[Alert]) -> None:
    outbox = MemoryOutbox()
    for a in alerts:
        outbox.add(a)
    async with MqttPublisher(fast_settings(broker.url, client_id=f"pub-{id(alerts)}"), None, outbox) as p:
        p.notify()
        assert await p.flush(10)


ACTIVE = [
    alert(1, "warning", "zone_entry", "security_dpworld"),
    alert(2, "info", "speeding", "port_area"),
    alert(3, "alarm", "loitering", "security_apm"),
    alert(4, "warning", "zone_entry", "security_apm"),
    alert(4, "warning", "zone_entry", "security_apm", state="cleared"),
]
LIVE = [
    alert(5, "emergency", "zone_entry", "security_apm"),
    alert(6, "caution", "zone_entry", "security_apm"),
    alert(7, "alarm", "alongside", "anchorage_main"),
    alert(8, "warning", "loitering", "security_apm"),
]


async def run_with(broker: Broker, alert_filter: AlertFilter, count: int, *, as_json: bool) -> list[str]:
    await publish(broker, ACTIVE)
    out = io.StringIO()
    ready = asyncio.Event()
    settings = settings_from_url(broker.url).model_copy(update={"prefix": PREFIX})
    printer = AlertPrinter(out, as_json=as_json, colour=False)
    task = asyncio.create_task(run_subscriber(settings, alert_filter, printer, count=count, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    await publish(broker, LIVE)
    assert await asyncio.wait_for(task, 10) == count
    return out.getvalue().splitlines()


async def test_active_first_then_live_filtered_by_severity_and_type(mosquitto: Broker) -> None:
    f = AlertFilter(max_rank=2, types={"zone_entry", "loitering"})  # warning or worse
    lines = await run_with(mosquitto, f, 4, as_json=True)
    assert sorted(lines[:2]) == sorted([ACTIVE[0].to_json(), ACTIVE[2].to_json()])  # the retained state
    assert lines[2:] == [LIVE[0].to_json(), LIVE[3].to_json()]


async def test_zone_filter_and_readable_lines(mosquitto: Broker) -> None:
    f = AlertFilter(zones={"security_apm"}, types={"loitering", "zone_entry"})
    lines = await run_with(mosquitto, f, 4, as_json=False)
    assert lines[0].split()[2:4] == ["ALARM", "ACTIVE"] and "loitering" in lines[0]
    assert "[security_apm]" in lines[0] and str(ACTIVE[2].mmsi) in lines[0]
    assert [line.split()[2] for line in lines[1:]] == ["EMERGENCY", "CAUTION", "WARNING"]
    assert all("raised" in line for line in lines[1:])


async def test_command_line_json_output(mosquitto: Broker) -> None:
    await publish(mosquitto, ACTIVE)
    cmd = [sys.executable, "-m", "vts", "subscribe", "--broker", mosquitto.url, "--prefix", PREFIX,
           "--severity", "alarm", "--json", "--count", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        while "subscribed" not in (
            line := await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 15)
        ):
            assert line, "vts subscribe ended before subscribing"
        await publish(mosquitto, LIVE)
        out, _ = await asyncio.to_thread(proc.communicate, timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ACTIVE[2].id, LIVE[0].id]


async def test_command_line_wrong_credentials_is_one_line(mosquitto_auth: Broker) -> None:
    url = f"mqtt://vts:wrong-password@{mosquitto_auth.host}:{mosquitto_auth.port}"
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vts", "subscribe", "--broker", url],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 1
    assert "refused the credentials" in proc.stderr and "Traceback" not in proc.stderr
    assert "wrong-password" not in proc.stderr


async def test_subscriber_waits_for_a_restarted_broker_without_repeating_active_alerts(
    mosquitto_factory: BrokerFactory,
) -> None:
    broker = mosquitto_factory(persistent=True)
    await publish(broker, ACTIVE)
    out = io.StringIO()
    ready = asyncio.Event()
    settings = settings_from_url(broker.url).model_copy(update={"prefix": PREFIX})
    printer = AlertPrinter(out, as_json=True, colour=False)
    task = asyncio.create_task(run_subscriber(settings, AlertFilter(), printer, count=5, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    ready.clear()
    broker.stop()
    broker.start()
    await asyncio.wait_for(ready.wait(), 15)  # subscribed again; the retained states come again
    await publish(broker, LIVE[:2])
    assert await asyncio.wait_for(task, 10) == 5
    lines = out.getvalue().splitlines()
    active_now = [ACTIVE[0], ACTIVE[1], ACTIVE[2]]  # alert 4 was cleared
    assert sorted(lines[:3]) == sorted(a.to_json() for a in active_now)  # once each, not twice
    assert lines[3:] == [LIVE[0].to_json(), LIVE[1].to_json()]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_session_prints_what_was_published_while_it_was_away(
    mosquitto: Broker, protocol: str
) -> None:
    """Found in a live test: `vts subscribe` (a clean session) missed the 22 alert steps published
    while it was reconnecting. With `--session NAME` the broker queues them for it."""
    settings = settings_from_url(mosquitto.url).model_copy(update={"prefix": PREFIX, "protocol": protocol})

    async def run(count: int, before: list[Alert]) -> list[str]:
        out = io.StringIO()
        ready = asyncio.Event()
        printer = AlertPrinter(out, as_json=True, colour=False)
        task = asyncio.create_task(
            run_subscriber(
                settings, AlertFilter(), printer, count=count, show_active=False, ready=ready, session="ops-1"
            )
        )
        await asyncio.wait_for(ready.wait(), 10)
        await publish(mosquitto, before)
        assert await asyncio.wait_for(task, 10) == count
        return out.getvalue().splitlines()

    assert await run(1, LIVE[:1]) == [LIVE[0].to_json()]
    await publish(mosquitto, LIVE[1:3])  # while it is away
    assert await run(3, LIVE[3:]) == [a.to_json() for a in LIVE[1:]]


def test_a_session_under_the_daemons_client_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from vts.cli import main

    assert (
        main(["subscribe", "--broker", "mqtt://127.0.0.1:9?client_id=vts-callao", "--session", "vts-callao"])
        == 2
    )
    assert "is the daemon's client id" in capsys.readouterr().err


async def test_shared_subscription_splits_alerts_between_consumers(mosquitto: Broker) -> None:
    """The `$share/` example of docs/mqtt.md: each alert goes to one worker of the group."""
    share = f"$share/sms-gateway/{PREFIX}/alert/#"
    alerts = [alert(n, "warning", "speeding", "anchorage_main") for n in range(20)]
    async with Collector(mosquitto, [share]) as one, Collector(mosquitto, [share]) as two:
        await publish(mosquitto, alerts)
        await one.wait_until(lambda: len(one.messages) + len(two.messages) >= 20, "all 20 alerts")
        await asyncio.sleep(0.2)  # nothing more may come
    got_one = [json.loads(bytes(m.payload))["id"] for m in one.messages]
    got_two = [json.loads(bytes(m.payload))["id"] for m in two.messages]
    assert got_one and got_two
    assert sorted(got_one + got_two) == sorted(a.id for a in alerts)
