import CLifeline
#if canImport(FoundationEssentials)
import FoundationEssentials // URL
#else
import Foundation
#endif

/// Where the connection stands (`lifeline_state`). The raw values are the C
/// library's names (`lifeline_state_name`), asked of it, never copied.
public enum ConnectionState: Sendable, CaseIterable, CustomStringConvertible, RawRepresentable {
    /// Created, not started.
    case idle
    /// A connection attempt is in progress.
    case connecting
    /// Open and heartbeating.
    case connected
    /// Lost or failed, waiting to retry.
    case disconnected
    /// Permanent failure (e.g. HTTP 401 on the upgrade); no automatic retry
    /// until ``LifelineClient/start()`` or ``LifelineClient/reconnectNow()``.
    case error
    /// The retry budget is spent; the client probes until the server is back.
    case serverDown
    /// Stopped by the application.
    case closed

    var cValue: Int32 {
        let state = switch self {
        case .idle: LIFELINE_STATE_IDLE
        case .connecting: LIFELINE_STATE_CONNECTING
        case .connected: LIFELINE_STATE_CONNECTED
        case .disconnected: LIFELINE_STATE_DISCONNECTED
        case .error: LIFELINE_STATE_ERROR
        case .serverDown: LIFELINE_STATE_SERVER_DOWN
        case .closed: LIFELINE_STATE_CLOSED
        }
        return Int32(state.rawValue)
    }

    /// The state for a C `lifeline_state` value. A value this binding does
    /// not know (a newer library) reads as `.error`.
    init(cValue: Int32) {
        self = Self.allCases.first { $0.cValue == cValue } ?? .error
    }

    /// The C name, e.g. `"server_down"`.
    public var rawValue: String { String(cString: lifeline_state_name(cValue)) }

    /// The state the C library names `rawValue`.
    public init?(rawValue: String) {
        guard let state = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = state
    }

    public var description: String { rawValue }
}

/// The connection's quality grade (`lifeline_quality`). The raw values are
/// the C library's names (`lifeline_quality_name`), asked of it.
public enum Quality: Sendable, CaseIterable, CustomStringConvertible, RawRepresentable {
    /// Nothing measured on this connection yet, or the measure was lost.
    case unknown
    case excellent
    case good
    case poor

    var cValue: Int32 {
        let quality = switch self {
        case .unknown: LIFELINE_QUALITY_UNKNOWN
        case .excellent: LIFELINE_QUALITY_EXCELLENT
        case .good: LIFELINE_QUALITY_GOOD
        case .poor: LIFELINE_QUALITY_POOR
        }
        return Int32(quality.rawValue)
    }

    /// The grade for a C `lifeline_quality` value (`.unknown` for one this
    /// binding does not know).
    init(cValue: Int32) {
        self = Self.allCases.first { $0.cValue == cValue } ?? .unknown
    }

    /// The C name, e.g. `"excellent"`.
    public var rawValue: String { String(cString: lifeline_quality_name(cValue)) }

    /// The grade the C library names `rawValue`.
    public init?(rawValue: String) {
        guard let quality = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = quality
    }

    public var description: String { rawValue }
}

/// How the reconnection wait is randomised (`lifeline_jitter_mode`).
public enum JitterMode: Sendable, CaseIterable, CustomStringConvertible {
    /// `min(base * 2^(n-1), max)` plus uniform `[0, jitter)`.
    case additive
    /// Uniform `[0, min(base * 2^(n-1), max)]`: spreads a fleet over the window.
    case full

    var cValue: Int32 {
        switch self {
        case .additive: Int32(LIFELINE_JITTER_ADDITIVE.rawValue)
        case .full: Int32(LIFELINE_JITTER_FULL.rawValue)
        }
    }

    init?(cValue: Int32) {
        guard let mode = Self.allCases.first(where: { $0.cValue == cValue }) else { return nil }
        self = mode
    }

    /// The C name (`lifeline_jitter_mode_name`): `"additive"` or `"full"`.
    public var description: String { String(cString: lifeline_jitter_mode_name(cValue)) }
}

/// What a send does when the offline queue is full (`lifeline_queue_policy`).
public enum QueuePolicy: Sendable, CaseIterable, CustomStringConvertible {
    /// The new send fails with `QUEUE_FULL`.
    case rejectNew
    /// The oldest queued message is dropped (reported as ``LifelineEvent/dropped(_:reason:)``).
    case dropOldest
    /// No queue: a send while not connected fails with `NOT_CONNECTED`.
    case off

    var cValue: Int32 {
        switch self {
        case .rejectNew: Int32(LIFELINE_QUEUE_REJECT_NEW.rawValue)
        case .dropOldest: Int32(LIFELINE_QUEUE_DROP_OLDEST.rawValue)
        case .off: Int32(LIFELINE_QUEUE_OFF.rawValue)
        }
    }

    init?(cValue: Int32) {
        guard let policy = Self.allCases.first(where: { $0.cValue == cValue }) else { return nil }
        self = policy
    }

    /// The C name (`lifeline_queue_policy_name`): `"reject"`, `"drop_oldest"`
    /// or `"off"`.
    public var description: String { String(cString: lifeline_queue_policy_name(cValue)) }
}

/// How messages travel (`lifeline_delivery`).
///
/// ```swift
/// config.delivery = .reliable(outbox: .file(URL(fileURLWithPath: "/var/lib/till/outbox.sqlite")))
/// ```
public enum Delivery: Sendable, Equatable, CustomStringConvertible {
    /// Plain WebSocket, any server: a message written just before a
    /// connection dies may be lost.
    case bestEffort
    /// lifeline.v1 (docs/protocol.md): each message is numbered, kept in
    /// `outbox` until the server acknowledges it, sent again after a
    /// reconnection, and delivered once, in order, both ways. The server
    /// must speak lifeline.v1, else the client goes to
    /// ``ConnectionState/error`` with `NOT_LIFELINE`.
    case reliable(outbox: Outbox = .memory)

    var cValue: Int32 {
        switch self {
        case .bestEffort: Int32(LIFELINE_DELIVERY_BEST_EFFORT.rawValue)
        case .reliable: Int32(LIFELINE_DELIVERY_RELIABLE.rawValue)
        }
    }

    /// The C name (`lifeline_delivery_name`): `"best_effort"` or `"reliable"`.
    public var description: String { String(cString: lifeline_delivery_name(cValue)) }
}

/// Where a reliable client keeps the messages the server has not
/// acknowledged yet, and its session.
public enum Outbox: Sendable, Equatable {
    /// In memory: it survives reconnections; ``LifelineClient/stop()``
    /// reports what it still holds as ``LifelineEvent/dropped(_:reason:)``.
    case memory
    /// A SQLite file (created if missing) that keeps them across restarts of
    /// the app: what one client could not deliver, the next client opening
    /// the same file delivers. A send returns once the message is committed.
    case file(URL, durability: Durability = .normal)
}

/// How an outbox file commits (`lifeline_durability`).
public enum Durability: Sendable, CaseIterable {
    /// SQLite WAL, `synchronous=NORMAL`: a sent message survives a crash or
    /// kill of the app.
    case normal
    /// `synchronous=FULL`: a power loss too.
    case full

    var cValue: Int32 {
        switch self {
        case .normal: Int32(LIFELINE_DURABILITY_NORMAL.rawValue)
        case .full: Int32(LIFELINE_DURABILITY_FULL.rawValue)
        }
    }

    init?(cValue: Int32) {
        guard let durability = Self.allCases.first(where: { $0.cValue == cValue }) else { return nil }
        self = durability
    }
}

/// The most detailed log lines the client produces (`lifeline_log_level`).
public enum LogLevel: Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case error, warn, info, debug

    var cValue: Int32 {
        switch self {
        case .error: Int32(LIFELINE_LOG_ERROR.rawValue)
        case .warn: Int32(LIFELINE_LOG_WARN.rawValue)
        case .info: Int32(LIFELINE_LOG_INFO.rawValue)
        case .debug: Int32(LIFELINE_LOG_DEBUG.rawValue)
        }
    }

    init?(cValue: Int32) {
        guard let level = Self.allCases.first(where: { $0.cValue == cValue }) else { return nil }
        self = level
    }

    /// The C name (`lifeline_log_level_name`), e.g. `"warn"`.
    public var description: String { String(cString: lifeline_log_level_name(cValue)) }
}

/// One WebSocket message.
public enum Message: Sendable, Equatable {
    case text(String)
    case binary([UInt8])

    /// A message from C bytes; text is decoded as UTF-8 (invalid sequences
    /// become U+FFFD).
    init(_ data: UnsafeRawPointer?, _ len: Int, isBinary: Int32) {
        let bytes = data.map { UnsafeRawBufferPointer(start: $0, count: len) }
            ?? UnsafeRawBufferPointer(start: nil, count: 0)
        if isBinary != 0 {
            self = .binary(Array(bytes))
        } else {
            self = .text(String(decoding: bytes, as: UTF8.self))
        }
    }
}

/// What a state change carries besides the two states.
public struct StateInfo: Sendable, Equatable {
    /// The reconnection attempt (0: the first connection).
    public var attempt: Int
    /// The failure that caused the change, nil when none.
    public var error: LifelineError?
    /// The HTTP status of a refused upgrade, else 0.
    public var httpStatus: Int
    /// One line for people.
    public var reason: String
    /// Which server: 0 ``Configuration/url``, k `fallbackURLs[k - 1]`.
    public var urlIndex: Int = 0
    /// That URL with its secrets shown as `***` (`lifeline_redact_url()`).
    public var url: String = ""
}

/// What became of one alert.
public struct NotifyInfo: Sendable, Equatable {
    /// The channel: `"discord"`.
    public var channel: String
    /// `"down"`, `"recovered"` or `"custom"`.
    public var kind: String
    /// The webhook answered 2xx.
    public var ok: Bool
    /// The last HTTP answer, 0 for none.
    public var httpStatus: Int
    /// How many deliveries were tried.
    public var attempts: Int
    /// One line: `"delivered"`, `"refused"`, `"unreachable"`, ...
    public var detail: String
}

/// Everything a ``LifelineClient`` reports, in the order the C library
/// reported it (see ``LifelineClient/events``).
public enum LifelineEvent: Sendable, Equatable {
    /// The connection state changed.
    case state(old: ConnectionState, new: ConnectionState, info: StateInfo)
    /// A whole message arrived.
    case message(Message)
    /// A pong matched its ping: the round trip and the grade it gives.
    case pong(rtt: Duration, quality: Quality)
    /// The quality grade changed.
    case quality(Quality)
    /// A retry is scheduled: attempt (1-based) after `delay` exactly;
    /// `probe` is true for the probes of `server_down`.
    case retry(attempt: Int, delay: Duration, probe: Bool)
    /// A message handed to `send` will never be sent: `reason` is
    /// `QUEUE_FULL` (dropped as the oldest) or `STOPPED` (still queued at stop).
    case dropped(Message, reason: LifelineError)
    /// What became of an alert.
    case notify(NotifyInfo)
    /// A log line (secrets removed), at or above ``Configuration/logLevel``.
    case log(level: LogLevel, line: String)
    /// Reliable delivery: the server has every message up to and including
    /// `id` (the ids `send` returned); they have left the outbox. Acks are
    /// cumulative and batched: not one per message.
    case acked(id: UInt64)
    /// Reliable delivery: a connection resumed the session. `recovered`:
    /// the server still had everything it sent meanwhile, and sends the
    /// `replayed` messages again now (they come as messages next). Not
    /// recovered: messages from the server may have been lost; resynchronise
    /// from your backend. The first connection of a new session reports
    /// `recovered: false, replayed: 0`.
    case resumed(recovered: Bool, replayed: UInt64)
    /// Reliable delivery: the message with `id` will never be acknowledged:
    /// dropped as the oldest (`QUEUE_FULL`), or held by an outbox in memory
    /// at a stop (`STOPPED`). ``dropped(_:reason:)`` has its data just before.
    case droppedID(id: UInt64, reason: LifelineError)
}

/// A consistent snapshot of a client's figures (`lifeline_stats`). The C
/// library counts in milliseconds.
public struct Stats: Sendable, Equatable {
    public var state: ConnectionState
    public var timeInState: Duration
    public var attempt: Int
    /// Until the next retry or probe; zero: none scheduled.
    public var retryIn: Duration
    /// The last failure, nil when none.
    public var lastError: LifelineError?
    /// The status of the last refused upgrade, else 0.
    public var lastHTTPStatus: Int
    public var quality: Quality
    /// The round trips (zero before the first pong): the last, the
    /// smoothed one and its variation (RFC 6298), the least and the most.
    public var rttLast: Duration
    public var rttSmoothed: Duration
    public var rttVariation: Duration
    public var rttMin: Duration
    public var rttMax: Duration
    public var pongs: UInt64
    public var pingTimeouts: UInt64
    /// nil before the first pong.
    public var sinceLastPong: Duration?
    public var queuedMessages: UInt64
    public var queuedBytes: UInt64
    public var messagesSent: UInt64
    public var bytesSent: UInt64
    public var messagesReceived: UInt64
    public var bytesReceived: UInt64
    public var messagesDropped: UInt64
    public var reconnections: UInt64
    /// Total time not connected after a loss.
    public var downtime: Duration
    /// True when the server answered the close of the last
    /// ``LifelineClient/stop()`` within its timeout; false when it did not,
    /// the connection was dropped, or that stop found no open connection.
    public var lastCloseAnswered: Bool

    // Reliable delivery (0 in best-effort delivery).
    /// Messages held: not yet acknowledged.
    public var outboxMessages: UInt64
    public var outboxBytes: UInt64
    /// Of those, the ones written on this connection.
    public var unackedMessages: UInt64
    /// Every id up to it is acknowledged.
    public var lastAckedID: UInt64
    /// Messages written again after a resume.
    public var resends: UInt64
    /// Server messages received twice, dropped.
    public var duplicatesDropped: UInt64
    /// Server messages sent again on resumes.
    public var replayed: UInt64
    public var resumesRecovered: UInt64
    /// Resumes where the server had lost what it sent meanwhile.
    public var resumesLost: UInt64
    /// The server of the connection or attempt under way, else of the last
    /// one (0: ``Configuration/url``, k: `fallbackURLs[k - 1]`).
    public var urlIndex: Int

    init(_ s: lifeline_stats) {
        state = ConnectionState(cValue: s.state)
        timeInState = .milliseconds(s.time_in_state_ms)
        attempt = Int(s.attempt)
        retryIn = .milliseconds(s.retry_in_ms)
        lastError = LifelineError.ifFailed(s.last_error)
        lastHTTPStatus = Int(s.last_http_status)
        quality = Quality(cValue: s.quality)
        rttLast = .milliseconds(s.rtt_last_ms)
        rttSmoothed = .milliseconds(s.rtt_smoothed_ms)
        rttVariation = .milliseconds(s.rtt_variation_ms)
        rttMin = .milliseconds(s.rtt_min_ms)
        rttMax = .milliseconds(s.rtt_max_ms)
        pongs = s.pongs
        pingTimeouts = s.ping_timeouts
        sinceLastPong = s.since_last_pong_ms < 0 ? nil : .milliseconds(s.since_last_pong_ms)
        queuedMessages = s.queued_messages
        queuedBytes = s.queued_bytes
        messagesSent = s.messages_sent
        bytesSent = s.bytes_sent
        messagesReceived = s.messages_received
        bytesReceived = s.bytes_received
        messagesDropped = s.messages_dropped
        reconnections = s.reconnections
        downtime = .milliseconds(s.downtime_ms)
        lastCloseAnswered = s.last_close_answered != 0
        outboxMessages = s.outbox_messages
        outboxBytes = s.outbox_bytes
        unackedMessages = s.unacked_messages
        lastAckedID = s.last_acked_id
        resends = s.resends
        duplicatesDropped = s.duplicates_dropped
        replayed = s.replayed
        resumesRecovered = s.resumes_recovered
        resumesLost = s.resumes_lost
        urlIndex = Int(s.url_index)
    }
}
