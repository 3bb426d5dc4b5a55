import CLifeline
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials // URL
#else
import Foundation
#endif

/// A connection to one lifeline server: reconnects with backoff, probes a
/// server that is down, heartbeats and grades the connection, queues what you
/// send while offline, and reports every step as a ``LifelineEvent``.
///
/// ```swift
/// let url = URL(string: "ws://127.0.0.1:8080/ws?store=12&user=till-3")!
/// let client = try LifelineClient(configuration: Configuration(url: url))
/// try client.start()
/// try client.send(#"{"type":"echo","data":"hello"}"#)
/// for await event in client.events {
///     if case .message(.text(let text)) = event { print(text) }
/// }
/// ```
///
/// Threads: every method may be called from any thread or task. ``stop()``
/// is `async` and waits for the close off the caller's executor; ``close()``
/// blocks the caller while it stops a running client (at most about 2 s),
/// so in async code `await stop()` first, and `close()` returns at once.
///
/// Events: every iterator of ``events`` gets every event, so any number of
/// tasks may each run their own `for await` loop over it.
///
/// Lifetime: the C client is freed by ``close()`` or, at the latest, when the
/// object is deinitialised; then every iteration of ``events`` finishes. A
/// task that iterates ``events`` and captures the client keeps it alive:
/// call ``close()`` to end both.
///
/// `@unchecked Sendable`: the one mutable field, `handle`, is guarded by
/// `lock` (read for every call, write to free it); the C functions called
/// under the read lock are documented "Threads: any", so they may run
/// concurrently; `lifeline_client_free()` runs under the write lock, alone.
/// The lock stays although the library now allows a free from anywhere,
/// callbacks included: lifeline.h makes it the application's job not to
/// call anything on a client once its free has begun (a send racing the
/// free uses freed memory), and the write lock is what keeps a Swift
/// program from doing so.
public final class LifelineClient: @unchecked Sendable {
    /// Every event of this client, in the order the library reported it.
    ///
    /// Every iterator gets every event: each `for await` loop over `events`,
    /// in as many tasks as you like, receives every event reported from the
    /// moment it starts until the client is closed (see ``LifelineEvents``).
    /// The first loop also receives what was reported since `init`, so
    /// nothing is lost between `init`, ``start()`` and the first
    /// `for await`. Every loop ends once the client is closed or
    /// deinitialised; one that is left (or whose task is cancelled) stops
    /// receiving without affecting the others.
    public let events: LifelineEvents

    /// The configuration the client was created with.
    public let configuration: Configuration

    private let lock = ReadWriteLock()
    /// The C client; nil once freed. Guarded by `lock`.
    private var handle: OpaquePointer?
    /// Internal, not private, so the tests can check it is released.
    let sink: EventSink
    /// `sink`, retained once for the C client (see `EventSink`).
    private let userData: UnsafeMutableRawPointer
    /// Keeps a shared loop alive until the C client is freed.
    private let loop: LifelineLoop?

    /// Creates an idle client (nothing connects before ``start()``).
    ///
    /// - Parameters:
    ///   - configuration: validated first; a bad field throws
    ///     ``LifelineError/invalidConfiguration(field:code:name:message:)``.
    ///   - bufferingPolicy: what each iterator of ``events`` keeps while its
    ///     consumer has not read it (and the first, before it exists);
    ///     unbounded by default.
    public init(configuration: Configuration,
                bufferingPolicy: AsyncStream<LifelineEvent>.Continuation.BufferingPolicy = .unbounded)
        throws(LifelineError)
    {
        let hub = EventHub(bufferingPolicy: bufferingPolicy)
        let sink = EventSink(hub)
        let userData = Unmanaged.passRetained(sink).toOpaque()
        var out: OpaquePointer?
        var rc: Int32
        do {
            rc = try configuration.withCConfig { c in
                EventSink.install(into: &c, userData: userData)
                return lifeline_client_new(&c, &out)
            }
        } catch {
            Unmanaged<EventSink>.fromOpaque(userData).release()
            hub.finish()
            throw error
        }
        guard rc == LifelineError.ok, let out else {
            // No client, so no callback ever fires: the +1 is ours again.
            Unmanaged<EventSink>.fromOpaque(userData).release()
            hub.finish()
            if rc == LIFELINE_ERR_OUTBOX_OPEN.code || rc == LIFELINE_ERR_OUTBOX_CORRUPT.code,
               case .reliable(outbox: .file(let path, durability: _)) = configuration.delivery {
                try Self.checkOutbox(at: path) // says why
            }
            throw configuration.configurationError(rc)
        }
        self.events = LifelineEvents(hub: hub)
        self.configuration = configuration
        self.handle = out
        self.sink = sink
        self.userData = userData
        self.loop = configuration.loop
    }

    deinit {
        close()
    }

    /// The version of the installed C library, e.g. `"0.1.0"`.
    public static var libraryVersion: String { String(cString: lifeline_version()) }

    /// Runs body with the C client under the read lock; throws `STOPPED`
    /// once the client is closed.
    private func withHandle(_ body: (OpaquePointer) -> Int32) throws(LifelineError) {
        let rc = lock.withReadLock { handle.map(body) } ?? LIFELINE_ERR_STOPPED.code
        try LifelineError.check(rc)
    }

    /// Starts connecting (from idle), or starts again (from error or after
    /// ``stop()``). Returns at once; progress comes as events.
    /// Throws `STATE` when already running.
    public func start() throws(LifelineError) {
        try withHandle { lifeline_client_start($0) }
    }

    /// Sends a text message: copied, then written in order once connected;
    /// while not connected it waits in the offline queue.
    /// Throws `MESSAGE_TOO_BIG`, `QUEUE_FULL`, `NOT_CONNECTED` (queue off) or
    /// `STOPPED`; a message refused so is never reported as dropped.
    ///
    /// - Returns: with ``Delivery/reliable(outbox:)``, the message's id (1, 2,
    ///   3, ... in a session), once it is in the outbox (committed, with a
    ///   file); ``LifelineEvent/acked(id:)`` reports it acknowledged. It may
    ///   then also throw `OUTBOX_IO` (the file could not be written: the
    ///   message is not in it). nil with ``Delivery/bestEffort``.
    @discardableResult
    public func send(_ text: String) throws(LifelineError) -> UInt64? {
        var text = text
        return try send { h, id in
            text.withUTF8 { buffer in
                if let id { lifeline_client_send_id(h, buffer.baseAddress, buffer.count, 0, id) }
                else { lifeline_client_send(h, buffer.baseAddress, buffer.count, 0) }
            }
        }
    }

    /// Sends a binary message, like the text `send(_:)`.
    @discardableResult
    public func send(_ data: [UInt8]) throws(LifelineError) -> UInt64? {
        try send { h, id in
            data.withUnsafeBytes { buffer in
                if let id { lifeline_client_send_id(h, buffer.baseAddress, buffer.count, 1, id) }
                else { lifeline_client_send(h, buffer.baseAddress, buffer.count, 1) }
            }
        }
    }

    /// True with reliable delivery: sends go through `lifeline_client_send_id()`.
    private var isReliable: Bool {
        if case .reliable = configuration.delivery { return true }
        return false
    }

    /// Runs `body` with the C client and, with reliable delivery, where the
    /// id goes; returns the id (nil in best-effort delivery).
    private func send(_ body: (OpaquePointer, UnsafeMutablePointer<UInt64>?) -> Int32)
        throws(LifelineError) -> UInt64?
    {
        guard isReliable else {
            try withHandle { body($0, nil) }
            return nil
        }
        var id: UInt64 = 0
        try withHandle { body($0, &id) }
        return id
    }

    /// Reliable delivery: sends a text message as ``send(_:)-(String)`` does,
    /// then waits until the server has acknowledged it; returns its id.
    ///
    /// It returns once ``LifelineEvent/acked(id:)`` reports that id or a
    /// higher one (acks are cumulative). It throws a ``LifelineError``:
    /// what `send` throws, at once; `STOPPED` when the client is stopped or
    /// closed before the ack (with an outbox file the message stays in it
    /// and goes out after the next start); the error of the state change
    /// when the client goes to ``ConnectionState/error`` (`NOT_LIFELINE`
    /// when the server does not speak lifeline.v1, say); `STATE` with
    /// ``Delivery/bestEffort``; `QUEUE_FULL` when ``QueuePolicy/dropOldest``
    /// drops its message from a full outbox. It throws `CancellationError`
    /// when the task is cancelled:
    /// the message is not taken back.
    @discardableResult
    public func sendAcked(_ text: String) async throws -> UInt64 {
        try checkSendAcked()
        guard let id = try send(text) else { throw LifelineError(code: LIFELINE_ERR_STATE.code) }
        return try await sink.acks.wait(for: id)
    }

    /// The binary ``sendAcked(_:)-(String)``.
    @discardableResult
    public func sendAcked(_ data: [UInt8]) async throws -> UInt64 {
        try checkSendAcked()
        guard let id = try send(data) else { throw LifelineError(code: LIFELINE_ERR_STATE.code) }
        return try await sink.acks.wait(for: id)
    }

    private func checkSendAcked() throws(LifelineError) {
        guard isReliable else {
            throw LifelineError(code: LIFELINE_ERR_STATE.code)
        }
    }

    /// Checks an outbox file as a client with ``Outbox/file(_:durability:)``
    /// opens it, without keeping it open (`lifeline_outbox_check()`).
    /// Returns for a valid outbox, or when there is no file (one would be
    /// created). Throws `OUTBOX_OPEN` or `OUTBOX_CORRUPT`, whose message
    /// says what is wrong, the path included (`init` throws the same).
    public static func checkOutbox(at url: URL) throws(LifelineError) {
        var why = [CChar](repeating: 0, count: 512)
        let rc = lifeline_outbox_check(url.path, &why, why.count)
        guard rc != LifelineError.ok else { return }
        let error = LifelineError(code: rc)
        let detail = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw .failed(code: rc, name: error.name,
                      message: detail.isEmpty ? error.message : "\(error.message): \(detail)")
    }

    /// Skips the current wait: the pending attempt now (disconnected), a
    /// probe now (server down), a fresh start (error); nothing while
    /// connecting or connected. Throws `STATE` before start and after stop.
    public func reconnectNow() throws(LifelineError) {
        try withHandle { lifeline_client_reconnect_now($0) }
    }

    /// Tells the client the network changed (for apps that learn it from
    /// NetworkManager or elsewhere): while waiting to reconnect, the
    /// pending attempt (or, when down, the next probe) happens now, its
    /// number kept; while connected, a ping goes out. At most one early
    /// attempt a second. The same rule as ``Configuration/watchNetwork``'s
    /// watcher (the library's `lifeline_client_network_changed()`).
    public func networkChanged() throws(LifelineError) {
        try withHandle { lifeline_client_network_changed($0) }
    }

    /// Stops: writes what is queued, closes the connection with 1000 and
    /// waits for the server to answer the close, all within the library's
    /// default (2 s); then the connection is dropped. What could not be
    /// written by then (everything queued, when not connected) is reported
    /// as ``LifelineEvent/dropped(_:reason:)``; the client ends in
    /// ``ConnectionState/closed``, and ``Stats/lastCloseAnswered`` says
    /// whether the answer came. Returns once closed. The client can be
    /// started again. Does nothing once the client is closed.
    ///
    /// The wait happens on a thread of its own, never on the caller's
    /// executor. It is not cancellable: a cancelled task still waits for
    /// the close.
    public func stop() async {
        await stop(milliseconds: -1)
    }

    /// ``stop()``, writing what is queued and waiting for the server to
    /// answer the close within `timeout` (a negative one counts as zero; a
    /// fraction of a millisecond is rounded up).
    public func stop(timeout: Duration) async {
        let ms = Configuration.milliseconds(timeout) ?? (timeout > .zero ? Int64.max : 0)
        await stop(milliseconds: Int32(clamping: max(ms, 0)))
    }

    /// `lifeline_client_stop()` blocks until the connection is closed: it
    /// runs on a Dispatch worker, so the cooperative pool is never held up.
    private func stop(milliseconds: Int32) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                // lifeline_client_stop() fails only for a NULL client.
                try? self.withHandle { lifeline_client_stop($0, milliseconds) }
                done.resume()
            }
        }
    }

    /// Sends an alert now through the configured Discord webhook, with the
    /// rules of the automatic ones; the result comes as
    /// ``LifelineEvent/notify(_:)``. Throws `ALERTS_OFF` (no webhook),
    /// `QUEUE_FULL` or `NOTIFY_GONE`.
    public func alert(title: String, text: String) throws(LifelineError) {
        try withHandle { h in
            title.withCString { t in text.withCString { lifeline_client_alert(h, t, $0) } }
        }
    }

    /// A consistent snapshot of the client's figures. Throws `STOPPED` once
    /// the client is closed.
    public func stats() throws(LifelineError) -> Stats {
        var s = lifeline_stats()
        // lifeline_client_stats() is a C macro passing sizeof(lifeline_stats)
        try withHandle { lifeline_client_stats_sized($0, &s, MemoryLayout<lifeline_stats>.size) }
        return Stats(s)
    }

    /// The current state; ``ConnectionState/closed`` once the client is closed.
    public var state: ConnectionState {
        lock.withReadLock {
            handle.map { ConnectionState(cValue: lifeline_client_state($0)) } ?? .closed
        }
    }

    /// Stops the client, frees the C client and ends every iteration of
    /// ``events``. Every later call throws `STOPPED` (``stop()`` does
    /// nothing). Called by `deinit`; calling it again does nothing.
    ///
    /// Blocks while it stops a client that is still running (waiting at
    /// most 2 s for the server to answer the close, and 2 s for alerts
    /// being delivered); after ``stop()`` it has no close to wait for.
    public func close() {
        lock.withWriteLock {
            guard let h = handle else { return }
            // Alone: no other call is inside the client (see the class's
            // note). lifeline_client_free() returns LIFELINE_OK, from any
            // thread, and no callback starts after it has returned.
            _ = lifeline_client_free(h)
            handle = nil
            // Give back the C client's reference to the box.
            Unmanaged<EventSink>.fromOpaque(userData).release()
            sink.hub.finish()
            sink.acks.finish()
        }
    }
}
