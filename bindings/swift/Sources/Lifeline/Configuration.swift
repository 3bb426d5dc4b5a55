import CLifeline

/// How a ``LifelineClient`` connects, reconnects, heartbeats, queues and
/// alerts: the fields of the C `lifeline_config`, with the same defaults.
///
/// The defaults are read from `lifeline_config_init()` when you create a
/// configuration, so they are always the installed library's. Durations are
/// in milliseconds.
///
/// ```swift
/// var config = Configuration(url: "wss://pos.example.com/ws")
/// config.maxAttempts = 8
/// try config.validate()
/// ```
public struct Configuration: Sendable {
    /// `ws://` or `wss://` URL (required).
    public var url: String

    // Reconnection: the wait before attempt n (1-based) is
    // min(baseDelayMs * 2^(n-1), maxDelayMs) plus jitter.
    public var baseDelayMs: Int
    public var maxDelayMs: Int
    /// Additive jitter bound (additive mode only).
    public var jitterMs: Int
    public var jitterMode: JitterMode
    /// Failed attempts before the state becomes ``ConnectionState/serverDown``.
    public var maxAttempts: Int
    /// A connection must stay up this long before the attempt counter resets.
    public var stableAfterMs: Int
    /// Probe cadence in ``ConnectionState/serverDown``.
    public var downPingIntervalMs: Int
    /// Optional `http(s)` URL that must answer 2xx before a probe connects.
    public var healthURL: String?
    /// One attempt or probe, TCP, TLS and the WebSocket handshake included.
    public var connectTimeoutMs: Int

    // Heartbeat and quality.
    public var pingIntervalMs: Int
    /// Must be below ``pingIntervalMs``.
    public var pingTimeoutMs: Int
    /// Smoothed RTT below this is excellent.
    public var rttGoodMs: Int
    /// Smoothed RTT at or above this is poor.
    public var rttPoorMs: Int
    /// Seed for the jitter; 0 lets the client pick one from the system.
    public var randomSeed: UInt64

    // Transport.
    /// `"Name: value"` lines sent with the upgrade request.
    public var headers: [String]
    /// `Sec-WebSocket-Protocol`, nil for none.
    public var subprotocol: String?
    /// `Origin` header, nil for none.
    public var origin: String?
    /// Offer permessage-deflate.
    public var permessageDeflate: Bool
    /// `"host:port"` of an HTTP proxy, nil for none.
    public var httpProxy: String?
    /// PEM CA bundle for `wss`, nil for the system store.
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
    public var discordWebhookURL: String?
    /// `"Name: value"` fields shown in every alert, e.g. `"Store: 12"`.
    public var alertLabels: [String]
    /// At most one down alert in this window, however the server flaps.
    public var alertMinIntervalMs: Int
    /// The webhook's display name; nil for the library's default.
    public var alertUsername: String?

    /// The most detailed log lines reported as ``LifelineEvent/log(level:line:)``.
    public var logLevel: LogLevel

    /// A configuration for `url` with every other field at the library's default.
    public init(url: String) {
        let c = Self.cDefaults()
        self.url = url
        baseDelayMs = Int(c.base_delay_ms)
        maxDelayMs = Int(c.max_delay_ms)
        jitterMs = Int(c.jitter_ms)
        jitterMode = JitterMode(cValue: c.jitter_mode) ?? .additive
        maxAttempts = Int(c.max_attempts)
        stableAfterMs = Int(c.stable_after_ms)
        downPingIntervalMs = Int(c.down_ping_interval_ms)
        healthURL = c.health_url.map { String(cString: $0) }
        connectTimeoutMs = Int(c.connect_timeout_ms)
        pingIntervalMs = Int(c.ping_interval_ms)
        pingTimeoutMs = Int(c.ping_timeout_ms)
        rttGoodMs = Int(c.rtt_good_ms)
        rttPoorMs = Int(c.rtt_poor_ms)
        randomSeed = c.random_seed
        headers = []
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
        discordWebhookURL = c.discord_webhook_url.map { String(cString: $0) }
        alertLabels = []
        alertMinIntervalMs = Int(c.alert_min_interval_ms)
        alertUsername = c.alert_username.map { String(cString: $0) }
        logLevel = LogLevel(cValue: c.log_level) ?? .warn
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
        c.url = try strings.add(url, field: "url")
        c.base_delay_ms = try Self.cInt(baseDelayMs, "baseDelayMs")
        c.max_delay_ms = try Self.cInt(maxDelayMs, "maxDelayMs")
        c.jitter_ms = try Self.cInt(jitterMs, "jitterMs")
        c.jitter_mode = jitterMode.cValue
        c.max_attempts = try Self.cInt(maxAttempts, "maxAttempts")
        c.stable_after_ms = try Self.cInt(stableAfterMs, "stableAfterMs")
        c.down_ping_interval_ms = try Self.cInt(downPingIntervalMs, "downPingIntervalMs")
        c.health_url = try strings.add(healthURL, field: "healthURL")
        c.connect_timeout_ms = try Self.cInt(connectTimeoutMs, "connectTimeoutMs")
        c.ping_interval_ms = try Self.cInt(pingIntervalMs, "pingIntervalMs")
        c.ping_timeout_ms = try Self.cInt(pingTimeoutMs, "pingTimeoutMs")
        c.rtt_good_ms = try Self.cInt(rttGoodMs, "rttGoodMs")
        c.rtt_poor_ms = try Self.cInt(rttPoorMs, "rttPoorMs")
        c.random_seed = randomSeed
        c.headers = try strings.add(headers, field: "headers")
        c.header_count = headers.count
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
        c.discord_webhook_url = try strings.add(discordWebhookURL, field: "discordWebhookURL")
        c.alert_labels = try strings.add(alertLabels, field: "alertLabels")
        c.alert_label_count = alertLabels.count
        c.alert_min_interval_ms = try Self.cInt(alertMinIntervalMs, "alertMinIntervalMs")
        c.alert_username = try strings.add(alertUsername, field: "alertUsername")
        c.log_level = logLevel.cValue
        return withExtendedLifetime(strings) { body(&c) }
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
    /// `allow_insecure_tls` is `allowInsecureTLS`, `rtt_good_ms` is `rttGoodMs`.
    static func propertyName(_ cField: String) -> String {
        let acronyms: Set<Substring> = ["url", "tls"]
        let words = cField.split(separator: "_")
        guard let first = words.first else { return cField }
        return String(first) + words.dropFirst().map { word in
            acronyms.contains(word) ? word.uppercased() : word.prefix(1).uppercased() + word.dropFirst()
        }.joined()
    }
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
