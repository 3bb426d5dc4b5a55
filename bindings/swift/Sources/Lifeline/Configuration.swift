import CLifeline
#if canImport(FoundationEssentials)
import FoundationEssentials // URL, without the rest of Foundation
#else
import Foundation
#endif

/// How a ``LifelineClient`` connects, reconnects, heartbeats, queues and
/// alerts: the fields of the C `lifeline_config`, with the same defaults.
///
/// The defaults are read from `lifeline_config_init()` when you create a
/// configuration, so they are always the installed library's. Durations are
/// `Duration`s; the C library counts whole milliseconds, so a fraction of a
/// millisecond is rounded up (a positive duration never becomes zero).
///
/// ```swift
/// var config = Configuration(url: URL(string: "wss://pos.example.com/ws")!)
/// config.maxAttempts = 8
/// config.pingInterval = .seconds(15)
/// config.headers = ["Authorization": "Bearer \(token)"]
/// try config.validate()
/// ```
public struct Configuration: Sendable {
    /// `ws://` or `wss://` URL (required).
    public var url: URL
    /// Fallback servers, tried after ``url`` in this order (at most 32; the
    /// C `fallback_urls`): the library decides which server each attempt
    /// goes to, and ``StateInfo/urlIndex`` and ``Stats/urlIndex`` say which
    /// (0: ``url``, k: `fallbackURLs[k - 1]`).
    public var fallbackURLs: [URL]

    // Reconnection: the wait before attempt n (1-based) is
    // min(baseDelay * 2^(n-1), maxDelay) plus jitter.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Additive jitter bound (additive mode only).
    public var jitter: Duration
    public var jitterMode: JitterMode
    /// Failed attempts before the state becomes ``ConnectionState/serverDown``.
    public var maxAttempts: Int
    /// A connection must stay up this long before the attempt counter resets.
    public var stableAfter: Duration
    /// Probe cadence in ``ConnectionState/serverDown``.
    public var downPingInterval: Duration
    /// Optional `http(s)` URL that must answer 2xx before a probe connects.
    public var healthURL: URL?
    /// One attempt or probe, TCP, TLS and the WebSocket handshake included.
    public var connectTimeout: Duration

    // Heartbeat and quality.
    public var pingInterval: Duration
    /// Must be below ``pingInterval``.
    public var pingTimeout: Duration
    /// Smoothed RTT below this is excellent.
    public var rttGood: Duration
    /// Smoothed RTT at or above this is poor.
    public var rttPoor: Duration
    /// Seed for the jitter; 0 lets the client pick one from the system.
    public var randomSeed: UInt64

    // Transport.
    /// Header fields sent with the upgrade request, name to value
    /// (`["Authorization": "Bearer abc"]`). A dictionary has no order: they
    /// are sent sorted by name. A name must be printable ASCII without space
    /// or colon, not empty, and a value must not hold a line break, else the
    /// configuration is refused (`CONFIG_HEADER`, field `headers`).
    public var headers: [String: String]
    /// `Sec-WebSocket-Protocol`, nil for none.
    public var subprotocol: String?
    /// `Origin` header, nil for none.
    public var origin: String?
    /// Offer permessage-deflate.
    public var permessageDeflate: Bool
    /// `"host:port"` of an HTTP proxy, nil for none.
    public var httpProxy: String?
    /// Path of a PEM CA bundle for `wss`, nil for the system store.
    public var caFile: String?
    /// Accept self-signed certificates and any host name (development only).
    public var allowInsecureTLS: Bool
    /// Heartbeat with `{"type":"ping","ts":N}` text messages instead of ping frames.
    public var appPing: Bool
    /// Larger inbound messages close the connection (1009); larger sends are refused.
    public var maxMessageBytes: Int

    // Offline queue.
    public var queuePolicy: QueuePolicy
    public var queueMaxMessages: Int
    public var queueMaxBytes: Int

    /// A shared service thread; nil gives the client its own. The client
    /// keeps the loop alive for as long as it lives.
    public var loop: LifelineLoop?

    // Alerts.
    /// Discord webhook called when the server is judged down and when it
    /// recovers; nil turns alerts off. It holds a secret: lifeline never logs it.
    public var discordWebhookURL: URL?
    /// Fields shown in every alert, in this order:
    /// `[("Store", "12"), ("Device", "till-3")]`. A name must not be empty
    /// nor hold a colon, and neither part a line break (`CONFIG_LABEL`).
    public var alertLabels: [(name: String, value: String)]
    /// At most one down alert in this window, however the server flaps.
    public var alertMinInterval: Duration
    /// The webhook's display name; nil for the library's default.
    public var alertUsername: String?

    /// The most detailed log lines reported as ``LifelineEvent/log(level:line:)``.
    public var logLevel: LogLevel

    // Delivery.
    /// Best effort (the default), or reliable with its outbox. Reliable
    /// delivery refuses a ``subprotocol`` (it is lifeline.v1), ``appPing``
    /// and ``QueuePolicy/off``; the outbox is bounded by
    /// ``queueMaxMessages`` and ``queueMaxBytes``.
    public var delivery: Delivery
    /// Reliable delivery: acknowledge the server's messages after this many...
    public var ackEvery: Int
    /// ... or this long after the first one not yet acknowledged.
    public var ackDelay: Duration

    /// Watches the host's network (Linux rtnetlink) and, while waiting to
    /// reconnect, makes the pending attempt as soon as a link comes up, an
    /// address is added or the default route changes (C `watch_network`;
    /// the rule is the library's: see `LifelineClient.networkChanged()`).
    public var watchNetwork: Bool

    /// A configuration for `url` with every other field at the library's default.
    public init(url: URL) {
        let c = Self.cDefaults()
        self.url = url
        fallbackURLs = []
        baseDelay = .milliseconds(c.base_delay_ms)
        maxDelay = .milliseconds(c.max_delay_ms)
        jitter = .milliseconds(c.jitter_ms)
        jitterMode = JitterMode(cValue: c.jitter_mode) ?? .additive
        maxAttempts = Int(c.max_attempts)
        stableAfter = .milliseconds(c.stable_after_ms)
        downPingInterval = .milliseconds(c.down_ping_interval_ms)
        healthURL = c.health_url.flatMap { URL(string: String(cString: $0)) }
        connectTimeout = .milliseconds(c.connect_timeout_ms)
        pingInterval = .milliseconds(c.ping_interval_ms)
        pingTimeout = .milliseconds(c.ping_timeout_ms)
        rttGood = .milliseconds(c.rtt_good_ms)
        rttPoor = .milliseconds(c.rtt_poor_ms)
        randomSeed = c.random_seed
        headers = [:]
        subprotocol = c.subprotocol.map { String(cString: $0) }
        origin = c.origin.map { String(cString: $0) }
        permessageDeflate = c.permessage_deflate != 0
        httpProxy = c.http_proxy.map { String(cString: $0) }
        caFile = c.ca_file.map { String(cString: $0) }
        allowInsecureTLS = c.allow_insecure_tls != 0
        appPing = c.app_ping != 0
        maxMessageBytes = Int(c.max_message_bytes)
        queuePolicy = QueuePolicy(cValue: c.queue_policy) ?? .rejectNew
        queueMaxMessages = Int(c.queue_max_messages)
        queueMaxBytes = Int(c.queue_max_bytes)
        loop = nil
        discordWebhookURL = c.discord_webhook_url.flatMap { URL(string: String(cString: $0)) }
        alertLabels = []
        alertMinInterval = .milliseconds(c.alert_min_interval_ms)
        alertUsername = c.alert_username.map { String(cString: $0) }
        logLevel = LogLevel(cValue: c.log_level) ?? .warn
        if c.delivery == Delivery.reliable().cValue {
            let outbox = c.outbox_path.map {
                Outbox.file(URL(fileURLWithPath: String(cString: $0)),
                            durability: Durability(cValue: c.outbox_durability) ?? .normal)
            }
            delivery = .reliable(outbox: outbox ?? .memory)
        } else {
            delivery = .bestEffort
        }
        ackEvery = Int(c.ack_every)
        ackDelay = .milliseconds(c.ack_delay_ms)
        watchNetwork = c.watch_network != 0
    }

    /// Checks the configuration as `lifeline_client_new()` would (through
    /// `lifeline_config_validate()`, which also opens ``caFile``), without
    /// creating a client. Throws
    /// ``LifelineError/invalidConfiguration(field:code:name:message:)``
    /// naming the first bad field.
    public func validate() throws(LifelineError) {
        let rc = try withCConfig { lifeline_config_validate(&$0) }
        if rc != LifelineError.ok { throw configurationError(rc) }
    }

    // MARK: - To C

    /// A C configuration with the library's defaults. `lifeline_config_init()`
    /// is a C macro passing `sizeof(lifeline_config)`, which Swift cannot
    /// import: the size of the struct as Swift lays it out (this binding's
    /// lifeline.h) goes to `lifeline_config_init_sized()` instead, so the
    /// library writes no more than that.
    static func cDefaults() -> lifeline_config {
        var c = lifeline_config()
        _ = lifeline_config_init_sized(&c, MemoryLayout<lifeline_config>.size)
        return c
    }

    /// Calls body with the C configuration; its strings live until body returns.
    func withCConfig<R>(_ body: (inout lifeline_config) -> R) throws(LifelineError) -> R {
        let strings = CStrings()
        var c = Self.cDefaults()
        c.url = try strings.add(url.absoluteString, field: "url")
        let fallbacks = fallbackURLs.map(\.absoluteString)
        c.fallback_urls = try strings.add(fallbacks, field: "fallbackURLs")
        c.fallback_url_count = fallbacks.count
        c.base_delay_ms = try Self.cMilliseconds(baseDelay, "baseDelay")
        c.max_delay_ms = try Self.cMilliseconds(maxDelay, "maxDelay")
        c.jitter_ms = try Self.cMilliseconds(jitter, "jitter")
        c.jitter_mode = jitterMode.cValue
        c.max_attempts = try Self.cInt(maxAttempts, "maxAttempts")
        c.stable_after_ms = try Self.cMilliseconds(stableAfter, "stableAfter")
        c.down_ping_interval_ms = try Self.cMilliseconds(downPingInterval, "downPingInterval")
        c.health_url = try strings.add(healthURL?.absoluteString, field: "healthURL")
        c.connect_timeout_ms = try Self.cMilliseconds(connectTimeout, "connectTimeout")
        c.ping_interval_ms = try Self.cMilliseconds(pingInterval, "pingInterval")
        c.ping_timeout_ms = try Self.cMilliseconds(pingTimeout, "pingTimeout")
        c.rtt_good_ms = try Self.cMilliseconds(rttGood, "rttGood")
        c.rtt_poor_ms = try Self.cMilliseconds(rttPoor, "rttPoor")
        c.random_seed = randomSeed
        let headerLines = try Self.lines(headers.sorted { $0.key < $1.key }, "headers", LIFELINE_ERR_CONFIG_HEADER)
        c.headers = try strings.add(headerLines, field: "headers")
        c.header_count = headerLines.count
        c.subprotocol = try strings.add(subprotocol, field: "subprotocol")
        c.origin = try strings.add(origin, field: "origin")
        c.permessage_deflate = permessageDeflate ? 1 : 0
        c.http_proxy = try strings.add(httpProxy, field: "httpProxy")
        c.ca_file = try strings.add(caFile, field: "caFile")
        c.allow_insecure_tls = allowInsecureTLS ? 1 : 0
        c.app_ping = appPing ? 1 : 0
        c.max_message_bytes = try Self.cSize(maxMessageBytes, "maxMessageBytes")
        c.queue_policy = queuePolicy.cValue
        c.queue_max_messages = try Self.cSize(queueMaxMessages, "queueMaxMessages")
        c.queue_max_bytes = try Self.cSize(queueMaxBytes, "queueMaxBytes")
        c.loop = loop?.handle
        c.discord_webhook_url = try strings.add(discordWebhookURL?.absoluteString, field: "discordWebhookURL")
        let labelLines = try Self.lines(alertLabels.map { (key: $0.name, value: $0.value) },
                                        "alertLabels", LIFELINE_ERR_CONFIG_LABEL)
        c.alert_labels = try strings.add(labelLines, field: "alertLabels")
        c.alert_label_count = labelLines.count
        c.alert_min_interval_ms = try Self.cMilliseconds(alertMinInterval, "alertMinInterval")
        c.alert_username = try strings.add(alertUsername, field: "alertUsername")
        c.log_level = logLevel.cValue
        c.delivery = delivery.cValue
        if case .reliable(outbox: .file(let path, let durability)) = delivery {
            c.outbox_path = try strings.add(path.path, field: "delivery")
            c.outbox_durability = durability.cValue
        }
        c.ack_every = try Self.cInt(ackEvery, "ackEvery")
        c.ack_delay_ms = try Self.cMilliseconds(ackDelay, "ackDelay")
        c.watch_network = watchNetwork ? 1 : 0
        return withExtendedLifetime(strings) { body(&c) }
    }

    /// `"Name: value"` lines for C, which checks them. A colon in a name is
    /// refused here: joined, C would read the name as ending at it.
    private static func lines(_ pairs: [(key: String, value: String)], _ field: String,
                              _ error: lifeline_error) throws(LifelineError) -> [String] {
        var lines: [String] = []
        for (name, value) in pairs {
            guard !name.contains(":") else { throw LifelineError(code: error.code, field: field) }
            lines.append("\(name): \(value)")
        }
        return lines
    }

    /// The whole milliseconds of `duration`, a fraction rounded up; nil when
    /// they do not fit an Int64.
    static func milliseconds(_ duration: Duration) -> Int64? {
        // Whatever the signs of the two components, seconds * 1000 plus the
        // attoseconds' whole milliseconds, plus 1 for a positive rest, is
        // the ceiling.
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let rest = attoseconds % perMillisecond
        let (total, overflow2) = ms.addingReportingOverflow(attoseconds / perMillisecond + (rest > 0 ? 1 : 0))
        return overflow2 ? nil : total
    }

    private static func cMilliseconds(_ value: Duration, _ field: String) throws(LifelineError) -> Int32 {
        guard let ms = milliseconds(value), let v = Int32(exactly: ms) else {
            throw .invalidConfiguration(
                field: field, code: LIFELINE_ERR_INVALID_ARGUMENT.code,
                name: String(cString: lifeline_error_name(LIFELINE_ERR_INVALID_ARGUMENT.code)),
                message: "\(field) is \(value), more milliseconds than a C int holds")
        }
        return v
    }

    private static func cInt(_ value: Int, _ field: String) throws(LifelineError) -> Int32 {
        guard let v = Int32(exactly: value) else {
            throw .invalidConfiguration(
                field: field, code: LIFELINE_ERR_INVALID_ARGUMENT.code,
                name: String(cString: lifeline_error_name(LIFELINE_ERR_INVALID_ARGUMENT.code)),
                message: "\(field) is \(value), which does not fit a C int")
        }
        return v
    }

    private static func cSize(_ value: Int, _ field: String) throws(LifelineError) -> Int {
        // size_t cannot say "negative": refuse it here with the library's own
        // error for a negative limit.
        guard value >= 0 else { throw LifelineError(code: LIFELINE_ERR_CONFIG_NEGATIVE.code, field: field) }
        return value
    }

    // MARK: - Naming the bad field

    /// The error for a `LIFELINE_ERR_CONFIG_*` code from
    /// `lifeline_config_validate()` or `lifeline_client_new()`, naming the
    /// field `lifeline_config_check()` names (the binding has no rules of its
    /// own about which field is bad), as this type calls it.
    func configurationError(_ code: Int32) -> LifelineError {
        let cField = try? withCConfig { c -> String? in
            var name: UnsafePointer<CChar>? = nil
            guard lifeline_config_check(&c, &name) == code, let name else { return nil }
            return String(cString: name)
        }
        guard let cField else { return LifelineError(code: code) }
        return LifelineError(code: code, field: Self.propertyName(cField))
    }

    /// The property for a C field: `health_url` is `healthURL`,
    /// `ping_timeout_ms` is `pingTimeout` (a `Duration`), `headers` and
    /// `header_count` are both `headers`. A field this binding does not know
    /// (a newer library) is spelt in camel case.
    static func propertyName(_ cField: String) -> String {
        if let name = propertyNames[cField] { return name }
        let words = cField.split(separator: "_")
        guard let first = words.first else { return cField }
        return String(first) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// Every field of `lifeline_config` an application sets, and the
    /// property that stands for it.
    static let propertyNames: [String: String] = [
        "url": "url",
        "base_delay_ms": "baseDelay", "max_delay_ms": "maxDelay", "jitter_ms": "jitter",
        "jitter_mode": "jitterMode", "max_attempts": "maxAttempts", "stable_after_ms": "stableAfter",
        "down_ping_interval_ms": "downPingInterval", "health_url": "healthURL",
        "connect_timeout_ms": "connectTimeout",
        "ping_interval_ms": "pingInterval", "ping_timeout_ms": "pingTimeout",
        "rtt_good_ms": "rttGood", "rtt_poor_ms": "rttPoor", "random_seed": "randomSeed",
        "headers": "headers", "header_count": "headers", "subprotocol": "subprotocol", "origin": "origin",
        "permessage_deflate": "permessageDeflate", "http_proxy": "httpProxy", "ca_file": "caFile",
        "allow_insecure_tls": "allowInsecureTLS", "app_ping": "appPing",
        "max_message_bytes": "maxMessageBytes",
        "queue_policy": "queuePolicy", "queue_max_messages": "queueMaxMessages",
        "queue_max_bytes": "queueMaxBytes", "loop": "loop",
        "discord_webhook_url": "discordWebhookURL", "alert_labels": "alertLabels",
        "alert_label_count": "alertLabels", "alert_min_interval_ms": "alertMinInterval",
        "alert_username": "alertUsername", "log_level": "logLevel",
        "delivery": "delivery", "outbox_path": "delivery", "outbox_durability": "delivery",
        "ack_every": "ackEvery", "ack_delay_ms": "ackDelay",
        "fallback_urls": "fallbackURLs", "fallback_url_count": "fallbackURLs",
        "watch_network": "watchNetwork",
    ]
}

/// C copies of Swift strings, freed with the arena.
private final class CStrings {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []

    deinit {
        strings.forEach { $0.deallocate() }
        arrays.forEach { $0.deallocate() }
    }

    func add(_ s: String?, field: String) throws(LifelineError) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        let utf8 = Array(s.utf8)
        // C would stop at the first NUL and see another string than the app's.
        guard !utf8.contains(0) else {
            throw .invalidConfiguration(
                field: field, code: LIFELINE_ERR_INVALID_ARGUMENT.code,
                name: String(cString: lifeline_error_name(LIFELINE_ERR_INVALID_ARGUMENT.code)),
                message: "\(field) holds a NUL character")
        }
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count + 1)
        for (i, byte) in utf8.enumerated() { p[i] = CChar(bitPattern: byte) }
        p[utf8.count] = 0
        strings.append(p)
        return UnsafePointer(p)
    }

    /// A C array of C strings (`const char *const *`), nil when empty.
    func add(_ list: [String], field: String) throws(LifelineError) -> UnsafePointer<UnsafePointer<CChar>?>? {
        guard !list.isEmpty else { return nil }
        let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: list.count)
        arrays.append(array)
        for (i, s) in list.enumerated() {
            array[i] = try add(s, field: field)
        }
        return UnsafePointer(array)
    }
}
