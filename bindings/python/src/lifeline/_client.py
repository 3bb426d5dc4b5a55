"""lifeline.Client and its EventStream on top of the C API: the keyword
options are in _options.py, the handles it owns in _native.py, its callbacks
in _callbacks.py."""
from __future__ import annotations

import asyncio
import ctypes
import os
import time
import warnings
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _callbacks, _ffi
from ._callbacks import Data
from ._loop import Loop
from ._native import _ClientNative
from ._options import INT_MAX, OPTIONS, _cstr, _Config
from ._types import (
    DELIVERIES,
    QUEUE_POLICIES,
    Delivery,
    Durability,
    ErrorCode,
    Event,
    JitterMode,
    LifelineError,
    LogLevel,
    NotifyInfo,
    Quality,
    QueuePolicy,
    State,
    StateInfo,
    Stats,
    error_name,
    quality_from_c,
    state_from_c,
)

lib = _ffi.lib

#: What send(block=True) and send_async() sleep between two tries while the
#: queue is full: the first wait, doubled after each try up to the last. The
#: library has no "room in the queue" callback, so a waiting send tries again;
#: the queue drains as the loop thread writes, so room comes back in steps.
RETRY_FIRST_S = 0.001
RETRY_MAX_S = 0.020

Message = Union[str, bytes, bytearray, memoryview]


def _encode(data: Message) -> Tuple[bytes, int]:
    """data as lifeline_client_send() takes it: the bytes and is_binary."""
    if isinstance(data, str):
        return data.encode("utf-8"), 0
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), 1
    raise TypeError(f"send: expected str or bytes, got {type(data).__name__}")


def _deadline(timeout: Optional[float]) -> Optional[float]:
    """The time.monotonic() at which a waiting send gives up (None: never)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout: expected a number of seconds, got {type(timeout).__name__}")
    if not timeout >= 0:  # NaN too
        raise ValueError(f"timeout: must be a number of seconds >= 0, got {timeout!r}")
    return time.monotonic() + timeout


def _pause(delay: float, deadline: Optional[float]) -> Optional[float]:
    """How long a waiting send sleeps before its next try: delay, cut at the
    deadline; None once the deadline has passed."""
    if deadline is None:
        return delay
    left = deadline - time.monotonic()
    return min(delay, left) if left > 0 else None


class Client:
    """One connection to one server (lifeline_client).

    ``url`` is a ws:// or wss:// URL, or a list of them: the first is the
    server, the others its fallbacks (as ``fallback_urls=``, which sets the
    lifeline_config field of that name: the library decides which one each
    attempt goes to, and :class:`StateInfo` and :meth:`stats` say which,
    by ``url_index``). Every keyword option is named like the
    lifeline_config field it sets (None keeps the library's default, see
    :func:`default_options`). Callbacks run on the library's loop thread, one
    at a time; exceptions they raise are logged on the "lifeline" logger.

    Use it as a context manager (``with Client(url) as c:`` starts it and
    stops and frees it on exit), or keep a reference to it and call
    :meth:`close`. A client that is dropped is freed by its finalizer: its
    connection ends there and then, and a started client that was neither
    stopped nor closed says so with a ResourceWarning, as an unclosed socket
    does.

    Reliable delivery (``delivery="reliable"``, docs/protocol.md): messages
    are numbered, kept in an outbox (in memory, or the SQLite file
    ``outbox_path``, which keeps them across restarts of the app) until the
    server acknowledges them, and sent again after each reconnection; the
    server must speak lifeline.v1 (else the state becomes error with
    NOT_LIFELINE). :meth:`send` then returns each message's id,
    ``on_acked(id)`` says every message up to ``id`` is acknowledged,
    ``on_resumed(recovered, replayed)`` reports each resumed session,
    ``on_dropped_id(id, reason)`` each message dropped from the outbox, and
    ``await`` :meth:`send_acked` waits for one message's ack.
    """

    def __init__(
        self,
        url: Union[str, Sequence[str]],
        *,
        on_state: Optional[Callable[[State, State, StateInfo], Any]] = None,
        on_message: Optional[Callable[[Data], Any]] = None,
        on_pong: Optional[Callable[[int, Quality], Any]] = None,
        on_quality: Optional[Callable[[Quality], Any]] = None,
        on_retry: Optional[Callable[[int, int, bool], Any]] = None,
        on_dropped: Optional[Callable[[Data, str], Any]] = None,
        on_log: Optional[Callable[[LogLevel, str], Any]] = None,
        on_notify: Optional[Callable[[NotifyInfo], Any]] = None,
        on_acked: Optional[Callable[[int], Any]] = None,
        on_resumed: Optional[Callable[[bool, int], Any]] = None,
        on_dropped_id: Optional[Callable[[int, str], Any]] = None,
        base_delay_ms: Optional[int] = None,
        max_delay_ms: Optional[int] = None,
        jitter_ms: Optional[int] = None,
        jitter_mode: Union[JitterMode, str, None] = None,
        max_attempts: Optional[int] = None,
        stable_after_ms: Optional[int] = None,
        down_ping_interval_ms: Optional[int] = None,
        health_url: Optional[str] = None,
        connect_timeout_ms: Optional[int] = None,
        ping_interval_ms: Optional[int] = None,
        ping_timeout_ms: Optional[int] = None,
        rtt_good_ms: Optional[int] = None,
        rtt_poor_ms: Optional[int] = None,
        random_seed: Optional[int] = None,
        headers: Union[Mapping[str, str], Iterable[str], None] = None,
        subprotocol: Optional[str] = None,
        origin: Optional[str] = None,
        permessage_deflate: Optional[bool] = None,
        http_proxy: Optional[str] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        allow_insecure_tls: Optional[bool] = None,
        app_ping: Optional[bool] = None,
        max_message_bytes: Optional[int] = None,
        queue_policy: Union[QueuePolicy, str, None] = None,
        queue_max_messages: Optional[int] = None,
        queue_max_bytes: Optional[int] = None,
        loop: Optional[Loop] = None,
        discord_webhook: Optional[str] = None,
        discord_webhook_url: Optional[str] = None,
        alert_labels: Union[Mapping[str, str], Iterable[str], None] = None,
        alert_min_interval_ms: Optional[int] = None,
        alert_username: Optional[str] = None,
        log_level: Union[LogLevel, str, int, None] = None,
        delivery: Union[Delivery, str, None] = None,
        outbox_path: Union[str, "os.PathLike[str]", None] = None,
        outbox_durability: Union[Durability, str, int, None] = None,
        ack_every: Optional[int] = None,
        ack_delay_ms: Optional[int] = None,
        fallback_urls: Optional[Sequence[str]] = None,
        watch_network: Optional[bool] = None,
    ) -> None:
        args = dict(locals())
        callbacks = {k: args.pop(k) for k in _callbacks.NAMES}
        for name, fn in callbacks.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: expected a callable, got {type(fn).__name__}")
        options = {k: args[k] for k in OPTIONS if args[k] is not None}
        if not isinstance(url, str):
            if not isinstance(url, Sequence) or isinstance(url, bytes) or not url:
                raise TypeError("url: expected a str or a non-empty list of str")
            if fallback_urls is not None:
                raise TypeError("give a list as url or fallback_urls, not both")
            url, options["fallback_urls"] = url[0], list(url[1:])
        self._url = url
        self._loop = loop
        self._running = False  # started, and not stopped or closed since
        config = _Config(url, options)
        d = config.cfg.delivery
        self._reliable = 0 <= d < len(DELIVERIES) and DELIVERIES[d] is Delivery.RELIABLE
        self._native = _ClientNative(config, _callbacks.Sink(callbacks))

    # -- lifecycle
    def _call(self, what: str, fn: Callable[..., int], *args: Any) -> int:
        native = self._native
        ptr = native.use(what)
        try:
            return fn(ptr, *args)
        finally:
            native.done()

    def _check(self, what: str, fn: Callable[..., int], *args: Any) -> None:
        rc = self._call(what, fn, *args)
        if rc:
            raise LifelineError(rc, what)

    def start(self) -> None:
        """Start connecting (from idle), or again (from error or closed).
        Raises LifelineError STATE when already running.

        Keep a reference to the client (or use ``with``): one that is
        collected is freed, and its connection ends at once.
        """
        self._check("start", lib.lifeline_client_start)
        self._running = True

    def stop(self, timeout_ms: int = -1) -> None:
        """Write what is queued, close with 1000, wait for the server's
        answer, and end in closed; all within timeout_ms (< 0: 2000 ms),
        then the connection is dropped. What could not be written by then
        (everything queued, when not connected) goes to on_dropped.
        ``stats().last_close_answered`` then says whether the answer came.
        From a callback it returns at once. Raises LifelineError TIMEOUT
        when the loop thread, held up (by a callback that does not return,
        say), did not close the client in time: the close completes when the
        loop gets to it."""
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
            raise TypeError("timeout_ms: expected int")
        timeout_ms = max(min(timeout_ms, INT_MAX), -1)
        self._check("stop", lib.lifeline_client_stop, timeout_ms)
        self._running = False

    def close(self) -> None:
        """Stop and free the client (lifeline_client_free). Idempotent.

        Allowed in the client's own callbacks too: there it returns at once,
        the callback running is the client's last (what is still queued is
        discarded, not reported), and the library completes the close and
        the free after the callback returns."""
        native = getattr(self, "_native", None)
        if native is None:
            return
        rc = native.free("close")
        if rc:
            raise LifelineError(rc, "close")
        self._running = False

    @property
    def closed(self) -> bool:
        """True once the client is freed."""
        return self._native.ptr is None

    def __enter__(self) -> "Client":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def aclose(self) -> None:
        """close() in a worker thread, so the asyncio loop keeps running
        while the library waits for the server to answer the close."""
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    async def __aenter__(self) -> "Client":
        self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is None or native.ptr is None:
            return
        try:
            if getattr(self, "_running", False):
                # as socket.socket and subprocess.Popen do: shown with -X dev,
                # -W default or under pytest; source=self lets tracemalloc
                # tell where the client was made. The URL as it may be shown.
                warnings.warn(
                    f"unclosed running lifeline.Client {_ffi.redact_url(self._url)!r}: "
                    "it is freed and its connection ends now; keep a reference "
                    "and close() it, or use `with`",
                    ResourceWarning,
                    source=self,
                )
        finally:  # freed even when a warnings filter turns it into an error
            try:
                native.free("finalizer")
            except BaseException:
                pass

    def __repr__(self) -> str:
        return f"<lifeline.Client {self._url!r} {self.state.value}>"

    # -- traffic
    def send(self, data: Message, *, block: bool = False,
             timeout: Optional[float] = None) -> Optional[int]:
        """Send one message: str as text, bytes-like as binary. Copied; while
        not connected it waits in the offline queue. Raises LifelineError
        (MESSAGE_TOO_BIG, QUEUE_FULL, NOT_CONNECTED, STOPPED).

        Returns None in best-effort delivery (the default). With
        ``delivery="reliable"`` it returns the message's id (an int, 1 and
        up, increasing; lifeline_client_send_id()), once the message is in
        the outbox (committed, with an outbox file); ``on_acked`` reports
        ids as the server acknowledges them. It also raises OUTBOX_IO (the
        outbox file could not be written: the message is not in it), and
        QUEUE_FULL when the outbox is full (policy "reject").

        With ``block=True`` a full queue (QUEUE_FULL, policy "reject") makes
        it wait for room, at most ``timeout`` seconds (None: as long as it
        takes), and then raise QUEUE_FULL. The library has no "room" signal:
        the wait tries again after 1 ms, doubling to 20 ms (RETRY_FIRST_S,
        RETRY_MAX_S), asleep without the GIL in between. Every other error
        is raised at once; so is STOPPED when the client is stopped or closed
        meanwhile. ``timeout`` goes with ``block=True`` only. In a callback of
        a client on the same loop thread, ``block=True`` raises IN_CALLBACK:
        that thread is the one that makes room.
        """
        raw, binary = _encode(data)
        if not block:
            if timeout is not None:
                raise ValueError("send: timeout= needs block=True")
            rc, msg_id = self._send_once("send", raw, binary)
            if rc:
                raise LifelineError(rc, "send")
            return msg_id
        deadline = _deadline(timeout)
        if _callbacks.loop_key_here() is self._native.sink.loop_key:
            # the loop thread drains the queue: waiting on it would wait forever
            raise LifelineError(ErrorCode.IN_CALLBACK, "send(block=True)")
        tries = self._tries("send", raw, binary, deadline)
        for pause in tries:
            time.sleep(pause)  # without the GIL
        return tries.msg_id

    async def send_async(self, data: Message, *,
                         timeout: Optional[float] = None) -> Optional[int]:
        """send(data, block=True, timeout=timeout) for asyncio: the waits
        between tries are ``asyncio.sleep()``, so the event loop runs
        meanwhile. Each try is one lifeline_client_send(), which copies the
        message and returns without waiting for the network. Raises as
        send() does; QUEUE_FULL once timeout seconds have passed. Returns
        what send() returns (the id, with reliable delivery)."""
        raw, binary = _encode(data)
        tries = self._tries("send_async", raw, binary, _deadline(timeout))
        for pause in tries:
            await asyncio.sleep(pause)
        return tries.msg_id

    async def send_acked(self, data: Message) -> int:
        """Reliable delivery: send one message (as send() does) and wait
        until the server has acknowledged it; returns its id.

        It resolves when ``on_acked`` reports that id or a higher one (acks
        are cumulative). It raises LifelineError when the client stops
        before that (STOPPED: stop() or close(); with an outbox file the
        message stays in it and goes out after the next start), or fails for
        good (state error: the error of that state change, NOT_LIFELINE when
        the server does not speak lifeline.v1, say). It raises at once what
        send() raises, and STATE in best-effort delivery. Cancelling the
        wait (``asyncio.wait_for``, say) does not take the message back.
        With ``queue_policy="drop_oldest"``, a message dropped from the
        outbox fails its wait with QUEUE_FULL (on_dropped_id)."""
        if not self._reliable:
            raise LifelineError(ErrorCode.STATE, "send_acked",
                                'needs delivery="reliable"')
        raw, binary = _encode(data)
        loop = asyncio.get_running_loop()
        rc, msg_id = self._send_once("send_acked", raw, binary)
        if rc:
            raise LifelineError(rc, "send_acked")
        assert msg_id is not None
        return await self._native.sink.acks.wait(msg_id, loop)

    def _send_once(self, what: str, raw: bytes, binary: int) -> Tuple[int, Optional[int]]:
        """One lifeline_client_send_id() (reliable) or lifeline_client_send():
        its lifeline_error and the message's id (None in best-effort)."""
        if not self._reliable:
            return self._call(what, lib.lifeline_client_send, raw, len(raw), binary), None
        out = ctypes.c_uint64()
        rc = self._call(what, lib.lifeline_client_send_id, raw, len(raw), binary,
                        ctypes.byref(out))
        return rc, (out.value if rc == ErrorCode.OK else None)

    def _tries(self, what: str, raw: bytes, binary: int,
               deadline: Optional[float]) -> "_Tries":
        return _Tries(self, what, raw, binary, deadline)

    def reconnect_now(self) -> None:
        """Skip the current wait. Raises LifelineError STATE when idle or
        closed."""
        self._check("reconnect_now", lib.lifeline_client_reconnect_now)

    def network_changed(self) -> None:
        """The host's network changed (the app heard it from NetworkManager,
        say): the library ends the current wait by its rule (the pending
        attempt or probe now, a ping when connected, at most one a second;
        lifeline.h, lifeline_client_network_changed). Nothing to do is not
        an error. With watch_network (on by default) the library hears
        Linux's own changes itself."""
        self._check("network_changed", lib.lifeline_client_network_changed)

    def alert(self, title: str, text: str) -> None:
        """Send an alert now through the alert channel; the result comes to
        on_notify. Raises LifelineError ALERTS_OFF, QUEUE_FULL, NOTIFY_GONE."""
        self._check(
            "alert",
            lib.lifeline_client_alert,
            _cstr("title", title),
            _cstr("text", text),
        )

    # -- figures
    @property
    def state(self) -> State:
        """The current state (State.CLOSED once the client is freed)."""
        native = self._native
        try:
            ptr = native.use("state")
        except LifelineError:
            return State.CLOSED
        try:
            return state_from_c(lib.lifeline_client_state(ptr))
        finally:
            native.done()

    @property
    def url(self) -> str:
        return self._url

    @property
    def loop(self) -> Optional[Loop]:
        return self._loop

    def stats(self) -> Stats:
        """A consistent snapshot of the client's figures (lifeline_stats)."""
        # the library writes exactly sizeof(Stats_c) bytes (zero for fields
        # it does not have, should it be older than the mirror)
        s = _ffi.Stats_c()
        self._check("stats", lib.lifeline_client_stats_sized, ctypes.byref(s),
                    ctypes.sizeof(s))
        return Stats(
            state=state_from_c(s.state),
            time_in_state_ms=s.time_in_state_ms,
            attempt=s.attempt,
            retry_in_ms=s.retry_in_ms,
            last_error=error_name(s.last_error),
            last_http_status=s.last_http_status,
            quality=quality_from_c(s.quality),
            rtt_last_ms=s.rtt_last_ms,
            rtt_smoothed_ms=s.rtt_smoothed_ms,
            rtt_variation_ms=s.rtt_variation_ms,
            rtt_min_ms=s.rtt_min_ms,
            rtt_max_ms=s.rtt_max_ms,
            pongs=s.pongs,
            ping_timeouts=s.ping_timeouts,
            since_last_pong_ms=s.since_last_pong_ms,
            queued_messages=s.queued_messages,
            queued_bytes=s.queued_bytes,
            messages_sent=s.messages_sent,
            bytes_sent=s.bytes_sent,
            messages_received=s.messages_received,
            bytes_received=s.bytes_received,
            messages_dropped=s.messages_dropped,
            reconnections=s.reconnections,
            downtime_ms=s.downtime_ms,
            last_error_code=s.last_error,
            last_close_answered=bool(s.last_close_answered),
            outbox_messages=s.outbox_messages,
            outbox_bytes=s.outbox_bytes,
            unacked_messages=s.unacked_messages,
            last_acked_id=s.last_acked_id,
            resends=s.resends,
            duplicates_dropped=s.duplicates_dropped,
            replayed=s.replayed,
            resumes_recovered=s.resumes_recovered,
            resumes_lost=s.resumes_lost,
            url_index=s.url_index,
        )

    # -- asyncio
    def events(self) -> "EventStream":
        """The client's events on the running asyncio loop::

            async for event in client.events():
                ...

        Call it from a coroutine. Events are collected from this call on (so
        call it before start() to see the first state change); the iteration
        ends when the client is closed.
        """
        return EventStream(self)


class _Tries:
    """The sends of a waiting send, until the message is accepted: iterating
    it yields how long to wait before each new try while the queue is full
    (the retry schedule, cut at the deadline); then ``msg_id`` is the
    message's id (None in best-effort). Raises the error of a try that is
    neither OK nor QUEUE_FULL, and QUEUE_FULL past the deadline."""

    def __init__(self, client: Client, what: str, raw: bytes, binary: int,
                 deadline: Optional[float]) -> None:
        self.client, self.what, self.raw, self.binary = client, what, raw, binary
        self.deadline = deadline
        self.msg_id: Optional[int] = None

    def __iter__(self) -> Iterator[float]:
        delay = RETRY_FIRST_S
        while True:
            rc, self.msg_id = self.client._send_once(self.what, self.raw, self.binary)
            if rc == ErrorCode.OK:
                return
            pause = _pause(delay, self.deadline) if rc == ErrorCode.QUEUE_FULL else None
            if pause is None:
                raise LifelineError(rc, self.what)
            yield pause
            delay = min(delay * 2, RETRY_MAX_S)


class EventStream:
    """An async iterator of a client's events (see :meth:`Client.events`).

    Handed over from the C loop thread with ``call_soon_threadsafe`` into an
    asyncio.Queue. It keeps its client alive; ``aclose()`` (or leaving an
    ``async with``) stops collecting.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._sink = client._native.sink
        self._sub = _callbacks.Subscription(asyncio.get_running_loop())
        self._done = False
        self._sink.subscribe(self._sub)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._done:
            raise StopAsyncIteration
        item = await self._sub.queue.get()
        if item is _callbacks.END:
            self._finish()
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; asyncio.TimeoutError after timeout seconds,
        StopAsyncIteration once the client is closed."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def _finish(self) -> None:
        self._done = True
        self._sink.unsubscribe(self._sub)

    async def aclose(self) -> None:
        self._finish()

    async def __aenter__(self) -> "EventStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._finish()
