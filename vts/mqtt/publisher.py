"""The MQTT publisher: alerts (at least once, in order), alert state, vessel state and status.

    async with MqttPublisher(settings, core, store) as publisher:
        ... feed the core ...
    # leaving the block delivers what is pending (up to settings.flush_timeout_s) and says offline

* Alerts are taken from the outbox (the SQLite alert store, or an in-memory one without a store) and
  marked delivered only after the broker's PUBACK for both the alert message and its retained
  ``alert-state`` message. Up to ``publish_window`` alerts are in flight at once, sent in outbox
  order on one connection, so they arrive in order; after a failure, the unacknowledged ones are
  sent again (consumers drop duplicates by alert id).
* A broker that is down or unreachable never stops the daemon: the publisher retries with back-off
  (``retry_initial_s`` doubling to ``retry_max_s``), logging one warning per outage. A connection
  that drops again at once is the same outage: the outage ends (and the back-off starts again from
  ``retry_initial_s``) only once a session delivered an alert or held for `STABLE_SESSION_S`. A
  broker that refuses the credentials gives one clear error, then a slow retry (``auth_retry_s``).
* A broker that refuses an alert (MQTT 5 PUBACK "not authorised" ...) gets the same treatment: one
  clear error, the alert stays in the outbox and delivery is tried again every ``auth_retry_s``.
  A step the broker can never take (bigger than its maximum packet size, or one it closed the
  connection on `MAX_DROPS_PER_STEP` times running) is set aside with an error naming it, so the
  alerts behind it go out; it stays undelivered in the outbox (the alert store keeps it).
* MQTT 5 where the broker speaks it (content type, user properties, message expiry), MQTT 3.1.1
  otherwise (``protocol: auto``, `ProtocolNegotiation`).
* A session leaves with DISCONNECT only after its offline status was acknowledged; any other end
  (close() giving up on a stalled broker, an error) hangs up without it, so that the broker
  publishes the last will (`CheckedClient.goodbye_sent`).
* Passwords never reach a log: only `vts.mqtt.urls.describe` is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import aiomqtt
from aiomqtt import MqttCodeError, MqttError, ProtocolVersion
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.properties import Properties

from vts.alerts.model import Alert
from vts.mqtt import payloads
from vts.mqtt.checked_client import (
    QUOTA_EXCEEDED,
    CheckedClient,
    ProtocolNegotiation,
    PublishRefused,
    is_no_answer,
    publish_packet_size,
)
from vts.mqtt.client_log import QuietClientLogger
from vts.mqtt.outbox import MemoryOutbox, Outbox, pending_count
from vts.mqtt.settings import MqttSettings
from vts.mqtt.topics import Topics
from vts.mqtt.urls import describe

if TYPE_CHECKING:
    from vts.core import Core
    from vts.reports import Report
    from vts.tracker import VesselState

log = logging.getLogger(__name__)

NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
"""Small MQTT packets go out at once (Nagle's algorithm would hold them back for an ACK)."""
REFUSED_CREDENTIALS = {4, 5, 134, 135}
"""CONNACK codes: bad user name or password / not authorised (3.1.1 and 5)."""
MAX_VESSELS_PER_ROUND = 500
RETAINED_READ_LIMIT = 10
"""Reading the broker's retained alert states ends after a pause of ``publish_timeout_s``, and at
the latest after this many times that."""
STABLE_SESSION_S = 10.0
"""A session that stays up this long (or delivers an alert) ends the outage before it."""
MAX_DROPS_PER_STEP = 3
"""A step the connection dropped on this many times running is set aside (a broker that closes the
connection on a packet over its size limit, without saying so as an MQTT 5 broker would)."""


class RetainedStates(NamedTuple):
    """What the broker answered when asked for the retained alert states."""

    ids: set[str]
    """The alert ids whose state it retains (all of them, or the first ones when cut short)."""
    complete: bool
    """False when the answer was cut short (the end marker never came)."""


class MqttConfigurationError(Exception):
    """The settings cannot work as they are (a missing certificate file ...)."""


@dataclass
class PublisherStats:
    connected: bool = False
    protocol: str | None = None
    alerts_delivered: int = 0
    messages_published: int = 0
    vessel_messages: int = 0
    alerts_set_aside: int = 0
    connections: int = 0
    failed_connections: int = 0
    last_error: str | None = None


def reason_code_value(error: MqttCodeError) -> int | None:
    rc = error.rc
    if rc is None:
        return None
    value = getattr(rc, "value", rc)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def refused_subscription(codes: Any) -> bool:
    """Whether a SUBACK refused any of the filters (code 0x80 or above, in MQTT 3.1.1 and 5)."""
    return any(int(getattr(code, "value", code)) >= 0x80 for code in codes)


def is_tls_failure(error: MqttError) -> bool:
    """aiomqtt turns the ssl errors of the connection into MqttError(str(exc))."""
    text = str(error)
    return "CERTIFICATE" in text or "SSL" in text or "TLS" in text


def _no_passphrase() -> bytes:
    return b""


def make_tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    if not (settings.tls or settings.ca_file or settings.cert_file):
        return None
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
        if settings.cert_file:
            # no passphrase is configured: an encrypted key fails here, instead of OpenSSL asking
            # for its passphrase on the terminal and blocking the event loop
            context.load_cert_chain(settings.cert_file, settings.key_file, password=_no_passphrase)
    except (OSError, ssl.SSLError) as e:
        hint = " (an encrypted key? give vts a key without a passphrase)" if settings.cert_file else ""
        raise MqttConfigurationError(f"TLS files unusable ({e}){hint}") from None
    if settings.tls_insecure:
        context.check_hostname = False
    return context


CLOSE_GRACE_S = 5.0
"""At shutdown, how long a connected publisher may take to say offline and disconnect."""


class MqttPublisher:
    """Async context manager publishing a core's alerts and vessels to a broker.

    `core` may be None (only the outbox is drained; call `notify()` after adding to it). `store` is
    the durable outbox (`pending_delivery(limit)`, `mark_delivered(seq)`); without one, alerts the
    core raises go to a `MemoryOutbox`. With settings that name no broker, this does nothing.
    """

    def __init__(
        self,
        settings: MqttSettings,
        core: Core | None = None,
        store: Outbox | None = None,
        *,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings
        self.core = core
        self.topics = Topics(settings.prefix)
        self.stats = PublisherStats()
        self._clock = clock
        self._memory_outbox: MemoryOutbox | None = None
        if store is not None and isinstance(store, Outbox):
            self.outbox: Outbox = store
        else:
            self._memory_outbox = MemoryOutbox()
            self.outbox = self._memory_outbox
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._started_at = self._clock()
        self._protocols = ProtocolNegotiation(settings.protocol)
        self._vessel_pending: dict[int, bytes] = {}
        self._vessel_last: dict[int, float] = {}
        self._outage_logged = False
        self._auth_logged = False
        self._bug_logged = False
        self._retry_delay = settings.retry_initial_s
        self._session_start: float | None = None
        """When the current session connected; None once it counts as established."""
        self._session_delivered = 0
        self._alerts_resume_at = 0.0
        """Alert delivery is on hold until then (a refused alert, an outbox that cannot be read)."""
        self._alert_problem_logged = False
        self._set_aside: set[int] = set()
        """Steps the broker will never take: left undelivered in the outbox, skipped by this process."""
        self._awaiting: int | None = None
        """The step whose acknowledgement is awaited (what was in flight when a connection dropped)."""
        self._suspect: tuple[int, int] = (0, 0)
        """(step, how many connections in a row dropped while it was awaited)."""
        self._states_refused_logged = False
        self._refused = False
        """The last attempt failed in a way only an operator can fix (credentials, TLS files)."""
        self._next_status = 0.0
        self._resync_needed = True
        self._client_log = QuietClientLogger()
        self._inbox: asyncio.Queue[aiomqtt.Message] | None = None
        self._retained_query: asyncio.Task[set[str] | None] | None = None
        self._vessel_tokens = float(settings.vessel_max_rate)
        self._vessel_refill = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    async def __aenter__(self) -> MqttPublisher:
        if not self.enabled:
            return self
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        if self.core is not None:
            self.core.add_alert_listener(self._on_alert)
            if self.settings.vessels:
                self.core.add_report_listener(self._on_report)
        self._task = asyncio.create_task(self._run(), name="mqtt-publisher")
        log.info("MQTT: publishing to %s under %s/", describe(self.settings), self.topics.prefix)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self, flush_timeout: float | None = None) -> None:
        """Deliver what is pending (for up to `flush_timeout` s), say offline and disconnect."""
        if self._task is None:
            return
        timeout = self.settings.flush_timeout_s if flush_timeout is None else flush_timeout
        if not await self.flush(timeout):
            left = pending_count(self.outbox)
            where = (
                "kept in the alert store for the next start" if self._durable else "lost with this process"
            )
            log.warning("MQTT: %s alert step(s) not delivered at shutdown (%s)", left or "some", where)
        assert self._stop is not None
        self._stop.set()
        self.notify()
        # connected: a moment to say offline and disconnect cleanly; not connected (a broker that
        # takes the TCP connection and never answers keeps a connect attempt waiting for its full
        # timeout): nothing to say goodbye to, stop at once
        grace = CLOSE_GRACE_S if self.stats.connected else 0.0
        try:
            async with asyncio.timeout(grace):
                await asyncio.shield(self._task)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None

    async def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty; False when `timeout` seconds passed without any progress
        (a long backlog that keeps moving is waited for) or the broker refused us."""
        if not self.enabled:
            return True
        deadline = time.monotonic() + timeout
        delivered = self.stats.alerts_delivered
        while self._pending_steps(1) != []:  # None: the outbox cannot be read now; wait for that too
            if self.stats.alerts_delivered != delivered:
                delivered = self.stats.alerts_delivered
                deadline = time.monotonic() + timeout
            if self._refused or time.monotonic() >= deadline or self._task is None or self._task.done():
                return False
            self.notify()
            await asyncio.sleep(0.01)
        return True

    def _pending_steps(self, limit: int) -> list[tuple[int, Alert]] | None:
        """Up to `limit` steps to deliver, oldest first, without the ones set aside; None (logged
        once) when the outbox cannot be read: alerts then wait, they are not lost."""
        try:
            batch = self.outbox.pending_delivery(limit + len(self._set_aside))
        except Exception as e:  # a damaged or locked store must not stop the publisher
            self._hold_alerts(f"cannot read the alert outbox ({e!r})", self.settings.retry_max_s)
            return None
        return [(seq, alert) for seq, alert in batch if seq not in self._set_aside][:limit]

    def _hold_alerts(self, problem: str, pause: float) -> None:
        """Stop delivering alerts for `pause` seconds (the connection, status and vessels go on)."""
        self._alerts_resume_at = time.monotonic() + pause
        if self._alert_problem_logged:
            log.debug("MQTT: still %s", problem)
            return
        log.error("MQTT: %s. Alerts wait in the outbox; trying again every %g s", problem, pause)
        self._alert_problem_logged = True

    def notify(self) -> None:
        """New alerts are in the outbox (safe from any thread)."""
        if self._wake is None or self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- listeners on the core -------------------------------------------------------------------
    def _on_alert(self, alert: Alert) -> None:
        if self._memory_outbox is not None:
            self._memory_outbox.add(alert)
        self.notify()

    def _on_report(self, report: Report, vessel: VesselState | None) -> None:
        if vessel is None or vessel.is_shadow or vessel.lat is None or vessel.lon is None:
            return
        last = self._vessel_last.get(vessel.mmsi)
        if last is not None and 0 <= report.time - last < self.settings.vessel_interval_s:
            return
        if len(self._vessel_last) > 200_000:
            self._vessel_last.clear()
        self._vessel_last[vessel.mmsi] = report.time
        try:
            self._vessel_pending[vessel.mmsi] = payloads.vessel_payload(vessel)
        except Exception as e:  # bad data in a vessel never stops the feed
            log.debug("MQTT: vessel %s not published: %s", vessel.mmsi, e)
            return
        self.notify()

    # -- connection loop -------------------------------------------------------------------------
    def _make_client(self, protocol: ProtocolVersion, tls_context: ssl.SSLContext | None) -> CheckedClient:
        s = self.settings
        v5 = protocol == ProtocolVersion.V5
        will = aiomqtt.Will(
            self.topics.status,
            payloads.status_payload(False),
            qos=1,
            retain=True,
            properties=payloads.will_properties() if v5 else None,
        )
        client = CheckedClient(
            s.host or "localhost",
            s.port or (8883 if tls_context is not None else 1883),
            username=s.username,
            password=s.password.get_secret_value() if s.password is not None else None,
            identifier=s.client_id,
            protocol=protocol,
            will=will,
            keepalive=s.keepalive_s,
            timeout=s.publish_timeout_s,
            tls_context=tls_context,
            max_inflight_messages=max(20, 2 * s.publish_window),
            logger=self._client_log,  # type: ignore[arg-type]
            socket_options=NO_DELAY,
        )
        client.pending_calls_threshold = 2 * s.publish_window + MAX_VESSELS_PER_ROUND + 10
        return client

    async def _run(self) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            wait: float | None = None  # None: the back-off delay
            try:
                tls_context = make_tls_context(self.settings)
                protocol = self._protocols.protocol
                client = self._make_client(protocol, tls_context)
                client.timeout = self.settings.connect_timeout_s
                self._client_log.take_last_error()
                async with client:
                    client.timeout = self.settings.publish_timeout_s
                    self._connected(protocol)
                    await self._supervised_session(client)
                return
            except MqttConnectError as e:
                code = reason_code_value(e)
                self._disconnected(str(e))
                if self._protocols.refused(code):
                    log.info("MQTT: %s does not speak MQTT 5; using MQTT 3.1.1", describe(self.settings))
                    continue
                if code in REFUSED_CREDENTIALS:
                    who = (
                        f"user {self.settings.username!r}"
                        if self.settings.username
                        else "an anonymous client"
                    )
                    self._log_refused(
                        f"refused the credentials of {who} ({e}); check the MQTT URL or the config"
                    )
                    wait = self.settings.auth_retry_s
                else:
                    self._log_outage(e, self._retry_delay)
            except MqttConfigurationError as e:
                self._disconnected(str(e))
                self._log_refused(f"cannot be used: {e}")
                wait = self.settings.auth_retry_s
            except MqttError as e:
                cause = self._client_log.take_last_error()
                if cause and cause not in str(e):
                    e = MqttError(f"{e}; {cause}")
                lost = self.stats.connected  # a session that was up, not a failed attempt
                self._disconnected(str(e), dropped=not str(e).startswith("Operation timed out"))
                if is_tls_failure(e):
                    self._log_refused(
                        f"failed the TLS check ({e}); check mqtt.ca_file / cert_file / key_file"
                    )
                    wait = self.settings.auth_retry_s
                else:
                    self._log_outage(e, self._retry_delay, lost=lost)
                    if is_no_answer(e):  # TCP connected, but no CONNACK came back
                        self._protocols.no_answer()
            except Exception as e:  # a bug must not stop the daemon: log it and keep trying
                self._disconnected(repr(e))
                if self._bug_logged:
                    log.debug("MQTT: unexpected error in the publisher again (%r)", e)
                else:
                    log.error(
                        "MQTT: unexpected error in the publisher (%r); retrying with back-off",
                        e,
                        exc_info=True,
                    )
                    self._bug_logged = True
            if wait is None:  # read after the session: one that held has reset the back-off
                wait = self._retry_delay
                self._retry_delay = min(wait * 2, self.settings.retry_max_s)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stop.wait()

    def _connected(self, protocol: ProtocolVersion) -> None:
        self._protocols.connected()
        self.stats.connected = True
        self.stats.connections += 1
        self.stats.protocol = self._protocols.name
        self._session_start = time.monotonic()
        self._session_delivered = self.stats.alerts_delivered
        if self._auth_logged:  # the credentials / TLS files were fixed: that problem is over
            self._auth_logged = False
            self._outage_logged = True  # "connected again" once the session holds
        if self._outage_logged:
            log.debug("MQTT: connected to %s again; the outage ends once this holds", describe(self.settings))
        else:
            self._check_established()
        self._refused = False
        self._resync_needed = True
        self._next_status = 0.0

    def _check_established(self) -> None:
        """A session that delivered an alert or held for `STABLE_SESSION_S` ends the outage: say
        "connected again" (once) and start the back-off again from the shortest delay. Before that,
        a connection that keeps dropping at once is one long outage, not one per attempt."""
        if self._session_start is None:
            return
        held = time.monotonic() - self._session_start >= STABLE_SESSION_S
        if self._outage_logged and not held and self.stats.alerts_delivered == self._session_delivered:
            return
        self._session_start = None
        self._retry_delay = self.settings.retry_initial_s
        pending = pending_count(self.outbox)
        backlog = f"; delivering {pending} pending alert step(s)" if pending else ""
        if self._outage_logged:
            log.warning(
                "MQTT: connected again to %s (MQTT %s)%s",
                describe(self.settings),
                self.stats.protocol,
                backlog,
            )
            self._outage_logged = False
        else:
            log.info(
                "MQTT: connected to %s (MQTT %s)%s", describe(self.settings), self.stats.protocol, backlog
            )

    def _disconnected(self, error: str, *, dropped: bool = False) -> None:
        """After a failed attempt or a lost session; `dropped`: the connection failed (not a
        time-out), which counts against the step then in flight."""
        if self.stats.connected:
            self._check_established()
            if dropped and self._awaiting is not None:
                step, drops = self._suspect
                self._suspect = (self._awaiting, drops + 1 if step == self._awaiting else 1)
        else:
            self.stats.failed_connections += 1
        self._awaiting = None
        self.stats.connected = False
        self.stats.last_error = error

    def _log_outage(self, error: Exception, delay: float, *, lost: bool = False) -> None:
        """The start of an outage, said once: `lost`, a session that was up dropped ("lost the
        connection"); else an attempt failed ("cannot reach")."""
        if self._outage_logged:
            log.debug("MQTT: still cannot reach %s: %s; retry in %g s", describe(self.settings), error, delay)
            return
        log.warning(
            "MQTT: %s %s (%s); alerts wait in the outbox; retry in %g s (back-off up to %g s)",
            "lost the connection to" if lost else "cannot reach",
            describe(self.settings),
            error,
            delay,
            self.settings.retry_max_s,
        )
        self._outage_logged = True

    def _log_refused(self, problem: str) -> None:
        """A problem that retrying soon will not fix: one clear error, then quiet slow retries."""
        self._refused = True
        if self._auth_logged:
            log.debug("MQTT: broker %s still %s", describe(self.settings), problem)
            return
        log.error(
            "MQTT: broker %s %s. Alerts wait in the outbox; retrying every %g s",
            describe(self.settings),
            problem,
            self.settings.auth_retry_s,
        )
        self._auth_logged = True

    # -- one connected session -------------------------------------------------------------------
    async def _supervised_session(self, client: aiomqtt.Client) -> None:
        """Run the session until it ends (stop) or the connection drops (in-flight publishes do not
        notice a lost connection until their timeout; the watchdog does at once)."""
        session = asyncio.create_task(self._session(client), name="mqtt-session")
        watchdog = asyncio.create_task(self._watch_connection(client), name="mqtt-watchdog")
        try:
            await asyncio.wait({session, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (session, watchdog):
                if not task.done():
                    task.cancel()
            results = await asyncio.gather(session, watchdog, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise result

    async def _watch_connection(self, client: aiomqtt.Client) -> None:
        """Raises MqttError when the connection drops; hands incoming messages (only while
        `_retained_alert_states` listens) to `_inbox`."""
        async for message in client.messages:
            if self._inbox is not None:
                self._inbox.put_nowait(message)

    async def _session(self, client: CheckedClient) -> None:
        assert self._stop is not None and self._wake is not None
        try:
            await self._session_loop(client)
        finally:
            if self._retained_query is not None:
                self._retained_query.cancel()
                await asyncio.gather(self._retained_query, return_exceptions=True)
                self._retained_query = None

    async def _session_loop(self, client: CheckedClient) -> None:
        assert self._stop is not None and self._wake is not None
        while True:
            if self._stop.is_set():
                await self._publish_status(client, online=False)
                client.goodbye_sent = True  # leaving with DISCONNECT now: the broker drops the will
                return
            self._wake.clear()
            delivered = await self._deliver_alerts(client)
            self._check_established()
            await self._publish_vessels(client)
            now = time.monotonic()
            if now >= self._next_status:
                await self._publish_status(client, online=True)
                self._next_status = now + self.settings.status_interval_s
            if not delivered and self._resync_needed and not self._alerts_on_hold:
                await self._resync_step(client)
            if delivered or self._stop.is_set():
                continue
            now = time.monotonic()
            wait = self._next_status - now
            if self._vessel_pending:
                wait = min(wait, 0.1)  # vessel messages held back by the rate limit
            if self._session_start is not None:  # not established yet
                wait = min(wait, self._session_start + STABLE_SESSION_S - now)
            if self._alerts_on_hold:
                wait = min(wait, self._alerts_resume_at - now)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.05, wait)):
                    await self._wake.wait()

    @property
    def _v5(self) -> bool:
        return self._protocols.v5

    @property
    def _alerts_on_hold(self) -> bool:
        return time.monotonic() < self._alerts_resume_at

    @property
    def _durable(self) -> bool:
        return not isinstance(self.outbox, MemoryOutbox) and getattr(self.outbox, "path", "") is not None

    async def _deliver_alerts(self, client: CheckedClient) -> int:
        """Publish one window of the outbox; returns how many steps left it (delivered or set aside)."""
        if self._alerts_on_hold:
            return 0
        batch = self._pending_steps(self.settings.publish_window)
        if not batch:
            return 0
        handled = 0
        sends: list[tuple[int, Alert, list[asyncio.Task[None]]]] = []
        for seq, alert in batch:
            try:
                messages = self._alert_messages(alert)
            except Exception as e:  # an alert that cannot be encoded must not hold up the others
                self._put_aside(seq, alert, f"it cannot be encoded ({e!r})")
                handled += 1
                continue
            problem = self._undeliverable(seq, messages, client.max_packet_size)
            if problem is not None:
                self._put_aside(seq, alert, problem)
                handled += 1
                continue
            # tasks start in creation order, so wire order is kept
            tasks = [
                asyncio.create_task(client.publish_checked(topic, body, retain=retain, properties=props))
                for topic, body, retain, props in messages
            ]
            sends.append((seq, alert, tasks))
        try:
            for seq, alert, tasks in sends:
                self._awaiting = seq
                try:
                    for task in tasks:
                        await task
                except PublishRefused as e:
                    if e.about_this_message:
                        self._put_aside(seq, alert, f"the broker refused it ({e.reason}, code {e.code:#x})")
                        handled += 1
                        continue
                    self._refused = e.code != QUOTA_EXCEEDED
                    self._hold_alerts(
                        f"broker {describe(self.settings)} refused alert {alert.id} on {e.topic} "
                        f"({e.reason}, code {e.code:#x}); check what the broker allows this client",
                        self.settings.auth_retry_s if self._refused else self.settings.retry_max_s,
                    )
                    break
                except ValueError as e:  # paho refuses it before sending (a payload over 256 MiB ...)
                    self._put_aside(seq, alert, f"the MQTT client refuses it ({e})")
                    handled += 1
                    continue
                if not self._mark_delivered(seq):
                    break
                handled += 1
                self.stats.alerts_delivered += 1
                self.stats.messages_published += len(tasks)
            self._awaiting = None
        finally:
            every = [task for _, _, tasks in sends for task in tasks]
            for task in every:
                if not task.done():
                    task.cancel()
            # collect every outcome, so no "exception was never retrieved" noise
            await asyncio.gather(*every, return_exceptions=True)
        return handled

    def _alert_messages(self, alert: Alert) -> list[tuple[str, bytes, bool, Properties | None]]:
        """The messages of one alert step, as (topic, payload, retain, MQTT 5 properties)."""
        body = payloads.alert_payload(alert)
        props = payloads.alert_properties(alert) if self._v5 else None
        messages = [(self.topics.alert(alert), body, False, props)]
        state_topic = self.topics.alert_state(alert.id)
        if alert.state == "cleared":
            messages.append((state_topic, b"", True, None))
        elif self._holds_state(alert):
            messages.append((state_topic, body, True, props))
        return messages

    def _undeliverable(
        self, seq: int, messages: list[tuple[str, bytes, bool, Properties | None]], limit: int | None
    ) -> str | None:
        """Why this step can never reach the broker, or None."""
        size = max(
            publish_packet_size(topic, body, qos=1, properties=props, v5=self._v5)
            for topic, body, _, props in messages
        )
        if limit is not None and size > limit:
            return f"it is {size} bytes, over the broker's maximum packet size of {limit} bytes"
        step, drops = self._suspect
        if step == seq and drops >= MAX_DROPS_PER_STEP:
            return (
                f"the broker closed the connection each of the {drops} times it was sent "
                f"({size} bytes: over a packet size limit the broker does not announce?)"
            )
        return None

    def _put_aside(self, seq: int, alert: Alert, problem: str) -> None:
        """Skip a step the broker will never take, so that the ones after it go out. It is not
        marked delivered: the alert store keeps it undelivered for a later look."""
        self._set_aside.add(seq)
        if self._suspect[0] == seq:
            self._suspect = (0, 0)
        self.stats.alerts_set_aside += 1
        kept = "it stays undelivered in the alert store" if self._durable else "it is not published"
        log.error(
            "MQTT: alert %s (%s %s, vessel %s) cannot be delivered to %s: %s. Set aside so that "
            "the alerts after it go out; %s",
            alert.id,
            alert.type,
            alert.state,
            alert.mmsi,
            describe(self.settings),
            problem,
            kept,
        )

    def _mark_delivered(self, seq: int) -> bool:
        try:
            self.outbox.mark_delivered(seq)
        except Exception as e:  # a locked store: the step is sent again later (consumers drop duplicates)
            problem = f"cannot mark alert steps delivered in the outbox ({e!r})"
            self._hold_alerts(problem, self.settings.retry_max_s)
            return False
        if self._suspect[0] == seq:
            self._suspect = (0, 0)
        self._refused = False
        if self._alert_problem_logged:
            log.warning("MQTT: alerts are delivered again")
            self._alert_problem_logged = False
        return True

    def _holds_state(self, alert: Alert) -> bool:
        """Whether a raised/updated step becomes the retained ``alert-state``: only for a state alert
        the engine still holds (an event alert is raised once and never active; a state alert
        cleared since has its cleared step coming next in the outbox)."""
        if self.core is None:
            return True
        try:
            current = self.core.engine.active_alert(alert.type, alert.mmsi, alert.other_mmsi, alert.zone)
        except Exception:  # an engine that cannot tell: keep the state (a later clear empties it)
            return True
        return current is not None and current.id == alert.id

    async def _resync_step(self, client: CheckedClient) -> None:
        """Called with the outbox empty, until the resync is done. It comes in two steps, so that
        new alerts go out meanwhile: ask the broker for its retained states (in the background: an
        account that may not read them gets no answer until ``publish_timeout_s``), then, once it
        answered and the outbox is empty again, `_resync_alert_states` (which asks for another
        round when the broker's answer was cut short)."""
        if self.core is None:
            self._resync_needed = False
            return
        if self._retained_query is None:
            self._retained_query = asyncio.create_task(self._retained_alert_states(client))
            self._retained_query.add_done_callback(lambda _: self.notify())
            return
        if not self._retained_query.done():
            return
        query, self._retained_query = self._retained_query, None
        await self._resync_alert_states(client, query.result())

    async def _resync_alert_states(self, client: aiomqtt.Client, retained: RetainedStates | None) -> None:
        """Once the backlog is out, make the retained ``alert-state`` match the active alerts:
        empty the ones of alerts that are not active (left by an earlier run whose alerts ended
        without a cleared step; `retained` holds what the broker retains, None if it cannot
        tell), and re-publish the active ones (a broker restarted without persistence has
        forgotten them).

        A broker sends a client only so many retained messages at once (Mosquitto: 20 in flight
        plus ``max_queued_messages``, 1000, and drops the rest, end marker included): an answer
        cut short is cleaned up and the broker is asked again, for as long as each round finds
        stale states to empty (the ones emptied are not sent again)."""
        if self.core is None:
            self._resync_needed = False
            return
        try:
            active = list(self.core.engine.active())
        except Exception as e:  # an engine that cannot list its alerts does not stop the publisher
            log.debug("MQTT: no active alerts to re-publish: %s", e)
            self._resync_needed = False
            return
        stale = retained.ids - {a.id for a in active} if retained is not None else set()
        for alert_id in sorted(stale):
            await client.publish(self.topics.alert_state(alert_id), b"", qos=1, retain=True)
        if stale:
            log.info(
                "MQTT: emptied %d retained alert-state message(s) of alerts no longer active", len(stale)
            )
        if retained is not None and not retained.complete:
            if stale:
                self.notify()  # _resync_needed stays: ask again for the ones the broker held back
                return
            log.info(
                "MQTT: broker %s sent %d retained alert states, all of active alerts, and dropped the "
                "rest (more than it queues for one client: Mosquitto's max_queued_messages); retained "
                "states of alerts no longer active among the rest stay",
                describe(self.settings),
                len(retained.ids),
            )
        latest_step = getattr(self.outbox, "get", None)
        for current in active:
            # the last step published, not the engine's current form (it may hold newer evidence
            # that has not been published yet); with the outbox empty, the store's latest step is it
            alert = latest_step(current.id) if callable(latest_step) else None
            if alert is None or alert.state == "cleared":
                continue
            props = payloads.alert_properties(alert) if self._v5 else None
            await client.publish(
                self.topics.alert_state(alert.id),
                payloads.alert_payload(alert),
                qos=1,
                retain=True,
                properties=props,
            )
        self._resync_needed = False

    async def _retained_alert_states(self, client: aiomqtt.Client) -> RetainedStates | None:
        """The alert ids whose ``alert-state`` the broker retains now; None when it cannot tell (an
        account that may publish but not subscribe). The retained status (published at connection)
        is asked for in the same SUBSCRIBE, after them, and marks the end of their delivery: without
        it, the answer was cut short (``complete`` False). Asked with QoS 1: a broker that drops
        the messages over its queue limit then drops every one after them, the marker included."""
        self._inbox = inbox = asyncio.Queue()
        ids: set[str] = set()
        complete = False
        states_filter, marker = self.topics.all_alert_states, self.topics.status
        try:
            codes = await client.subscribe([(states_filter, 1), (marker, 1)])
            if refused_subscription(codes):
                self._cannot_read_states("refused the subscription")
                return None
            # a pause of publish_timeout_s ends the answer (a broker that dropped the rest sends
            # nothing more), not the time it takes: on a slow link or a loaded machine a thousand
            # states can take longer than that to arrive; a trickle that never ends is cut at ten times
            wait_s = self.settings.publish_timeout_s
            async with asyncio.timeout(RETAINED_READ_LIMIT * wait_s):
                while True:
                    message = await asyncio.wait_for(inbox.get(), wait_s)
                    if message.topic.matches(marker):
                        complete = True
                        break
                    if message.retain and message.payload and message.topic.matches(states_filter):
                        ids.add(str(message.topic).rsplit("/", 1)[-1])
        except TimeoutError:
            if not ids:
                self._cannot_read_states(f"sent nothing back within {self.settings.publish_timeout_s:g} s")
        finally:
            self._inbox = None
        await client.unsubscribe([states_filter, marker])
        if not complete and not ids:
            return None
        if not complete:
            log.debug("MQTT: the broker sent %d retained alert states, then nothing more", len(ids))
        return RetainedStates(ids, complete)

    def _cannot_read_states(self, what: str) -> None:
        (log.debug if self._states_refused_logged else log.info)(
            "MQTT: broker %s %s when asked for the retained alert states (an account that may not "
            "read them?): retained states of alerts no longer active (left by an earlier run) stay",
            describe(self.settings),
            what,
        )
        self._states_refused_logged = True

    async def _publish_vessels(self, client: aiomqtt.Client) -> None:
        if not self._vessel_pending:
            return
        retain = self.settings.vessel_retain and self._v5
        props = payloads.vessel_properties(self.settings.vessel_expiry_s) if self._v5 else None
        # a fast replay must not flood the broker: at most vessel_max_rate messages a second overall
        # (the pending ones wait, each replaced by its vessel's newer state meanwhile)
        now = time.monotonic()
        rate = self.settings.vessel_max_rate
        self._vessel_tokens = min(rate, self._vessel_tokens + (now - self._vessel_refill) * rate)
        self._vessel_refill = now
        budget = min(MAX_VESSELS_PER_ROUND, int(self._vessel_tokens))
        self._vessel_tokens -= budget
        sends: list[asyncio.Task[None]] = []
        while self._vessel_pending and len(sends) < budget:
            mmsi = next(iter(self._vessel_pending))
            body = self._vessel_pending.pop(mmsi)
            sends.append(
                asyncio.create_task(
                    client.publish(self.topics.vessel(mmsi), body, qos=0, retain=retain, properties=props)
                )
            )
        results = await asyncio.gather(*sends, return_exceptions=True)
        self.stats.vessel_messages += sum(1 for r in results if r is None)
        self.stats.messages_published += sum(1 for r in results if r is None)
        for r in results:
            if isinstance(r, BaseException):
                raise r  # QoS 0: the lost vessel messages are superseded by the next ones

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = {
            k: v for k, v in asdict(self.stats).items() if isinstance(v, int) and not isinstance(v, bool)
        }
        pending = pending_count(self.outbox)
        if pending is not None:
            counters["alerts_pending"] = pending
        if self._memory_outbox is not None:
            counters["alerts_dropped"] = self._memory_outbox.dropped
        if self.core is not None:
            with contextlib.suppress(Exception):
                counters["lines"] = int(self.core.ingest.stats.lines)
                counters["ais_messages"] = int(self.core.ingest.stats.messages)
            with contextlib.suppress(Exception):
                counters["vessels"] = len(self.core.tracker)
            with contextlib.suppress(Exception):
                counters["active_alerts"] = len(self.core.engine.active())
        return counters

    async def _publish_status(self, client: aiomqtt.Client, *, online: bool) -> None:
        body = payloads.status_payload(online, self.counters(), since=self._started_at)
        props = payloads.status_properties() if self._v5 else None
        await client.publish(self.topics.status, body, qos=1, retain=True, properties=props)
