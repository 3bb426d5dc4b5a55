import CLifeline

/// The context box the C callbacks reach through `user_data`.
///
/// `LifelineClient` passes it to C as `Unmanaged.passRetained(sink).toOpaque()`:
/// that +1 belongs to the C client and is given back only after
/// `lifeline_client_free()` has returned `LIFELINE_OK` (after which no
/// callback fires any more), so a callback always finds the box alive.
///
/// The callbacks run on the client's loop thread, one at a time. They copy
/// what C lends them (valid during the call only) into a ``LifelineEvent``
/// and publish it to the client's ``EventHub``, which hands it to every
/// iterator of ``LifelineClient/events``; `AsyncStream.Continuation` may be
/// used from any thread. They never call back into lifeline and never touch
/// the `LifelineClient`: application code runs in the tasks that iterate
/// ``LifelineClient/events``, never on the loop thread.
///
/// The box holds the hub, not the other way round: the `events` sequence
/// keeps the hub, never the box, so the box is released once C gives it
/// back, however long an application keeps `events`.
final class EventSink: Sendable {
    let hub: EventHub
    /// The client's ``LifelineClient/sendAcked(_:)-(String)`` waits, told of
    /// acks and state changes.
    let acks = AckWaiters()

    init(_ hub: EventHub) {
        self.hub = hub
    }

    private func yield(_ event: @autoclosure () -> LifelineEvent) {
        hub.publish(event())
    }

    private static func from(_ userData: UnsafeMutableRawPointer?) -> EventSink? {
        guard let userData else { return nil }
        return Unmanaged<EventSink>.fromOpaque(userData).takeUnretainedValue()
    }

    private static func string(_ s: UnsafePointer<CChar>?) -> String {
        s.map { String(cString: $0) } ?? ""
    }

    /// Points every callback of `c` at this module's C-convention functions
    /// and sets `user_data`. The closures capture nothing: they find the sink
    /// through `user_data`.
    static func install(into c: inout lifeline_config, userData: UnsafeMutableRawPointer) {
        c.user_data = userData
        c.on_state = { _, info, userData in
            guard let info, let sink = EventSink.from(userData) else { return }
            let i = info.pointee
            let new = ConnectionState(cValue: i.new_state)
            let error = LifelineError.ifFailed(i.error)
            sink.yield(.state(
                old: ConnectionState(cValue: i.old_state), new: new,
                info: StateInfo(attempt: Int(i.attempt), error: error,
                                httpStatus: Int(i.http_status), reason: EventSink.string(i.reason),
                                urlIndex: Int(i.url_index), url: EventSink.string(i.url))))
            sink.acks.state(new, error: error)
        }
        c.on_message = { _, data, len, isBinary, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.message(Message(data, len, isBinary: isBinary)))
        }
        c.on_pong = { _, rttMs, quality, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.pong(rtt: .milliseconds(rttMs), quality: Quality(cValue: quality)))
        }
        c.on_quality = { _, quality, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.quality(Quality(cValue: quality)))
        }
        c.on_retry = { _, attempt, delayMs, probe, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.retry(attempt: Int(attempt), delay: .milliseconds(delayMs), probe: probe != 0))
        }
        c.on_dropped = { _, data, len, isBinary, reason, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.dropped(Message(data, len, isBinary: isBinary), reason: LifelineError(code: reason)))
        }
        c.on_notify = { _, info, userData in
            guard let info, let sink = EventSink.from(userData) else { return }
            let i = info.pointee
            sink.yield(.notify(NotifyInfo(
                channel: EventSink.string(i.channel), kind: EventSink.string(i.kind), ok: i.ok != 0,
                httpStatus: Int(i.http_status), attempts: Int(i.attempts),
                detail: EventSink.string(i.detail))))
        }
        c.on_acked = { _, id, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.acked(id: id))
            sink.acks.acked(id)
        }
        c.on_resumed = { _, recovered, replayed, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.resumed(recovered: recovered != 0, replayed: replayed))
        }
        c.on_dropped_id = { _, id, reason, userData in
            guard let sink = EventSink.from(userData) else { return }
            let error = LifelineError(code: reason)
            sink.yield(.droppedID(id: id, reason: error))
            sink.acks.dropped(id, error)
        }
        c.on_log = { _, level, line, userData in
            guard let sink = EventSink.from(userData) else { return }
            sink.yield(.log(level: LogLevel(cValue: level) ?? .debug, line: EventSink.string(line)))
        }
    }
}
