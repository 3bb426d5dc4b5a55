import CLifeline
import Foundation
@testable import Lifeline
import Testing

/// A bad configuration and the field and error it must be refused with.
struct BadConfiguration: Sendable, CustomTestStringConvertible {
    let field: String
    let errorName: String
    let change: @Sendable (inout Configuration) -> Void

    var testDescription: String { "\(field) -> \(errorName)" }

    static let all: [BadConfiguration] = [
        .init(field: "url", errorName: "CONFIG_URL") { $0.url = URL(string: "http://127.0.0.1/ws")! },
        .init(field: "fallbackURLs", errorName: "CONFIG_FALLBACK_URL") {
            $0.fallbackURLs = [URL(string: "ws://127.0.0.1:2/ws")!, URL(string: "http://127.0.0.1/ws")!]
        },
        .init(field: "subprotocol", errorName: "INVALID_ARGUMENT") { $0.subprotocol = "chat\u{0}v2" },
        .init(field: "jitter", errorName: "CONFIG_NEGATIVE") { $0.jitter = .milliseconds(-1) },
        .init(field: "stableAfter", errorName: "CONFIG_NEGATIVE") { $0.stableAfter = .milliseconds(-1) },
        .init(field: "alertMinInterval", errorName: "CONFIG_NEGATIVE") { $0.alertMinInterval = .seconds(-5) },
        .init(field: "baseDelay", errorName: "CONFIG_BASE_DELAY") { $0.baseDelay = .zero },
        .init(field: "baseDelay", errorName: "INVALID_ARGUMENT") { $0.baseDelay = .milliseconds(Int64(Int32.max) + 1) },
        .init(field: "maxDelay", errorName: "CONFIG_MAX_DELAY") { $0.baseDelay = .milliseconds(500); $0.maxDelay = .milliseconds(400) },
        // a rule between two fields: C names the one changed from its default
        .init(field: "baseDelay", errorName: "CONFIG_MAX_DELAY") { $0.baseDelay = .seconds(40) },
        .init(field: "pingInterval", errorName: "CONFIG_PING_TIMEOUT") { $0.pingInterval = .seconds(5) },
        .init(field: "rttPoor", errorName: "CONFIG_RTT_THRESHOLDS") { $0.rttPoor = .milliseconds(100) },
        .init(field: "maxAttempts", errorName: "CONFIG_MAX_ATTEMPTS") { $0.maxAttempts = 0 },
        .init(field: "maxAttempts", errorName: "INVALID_ARGUMENT") { $0.maxAttempts = Int(Int32.max) + 1 },
        .init(field: "downPingInterval", errorName: "CONFIG_DOWN_PING_INTERVAL") { $0.downPingInterval = .zero },
        .init(field: "healthURL", errorName: "CONFIG_HEALTH_URL") { $0.healthURL = URL(string: "ftp://127.0.0.1/health")! },
        .init(field: "connectTimeout", errorName: "CONFIG_CONNECT_TIMEOUT") { $0.connectTimeout = .zero },
        .init(field: "pingInterval", errorName: "CONFIG_PING_INTERVAL") { $0.pingInterval = .zero },
        .init(field: "pingTimeout", errorName: "CONFIG_PING_TIMEOUT") { $0.pingInterval = .milliseconds(300); $0.pingTimeout = .milliseconds(300) },
        .init(field: "rttGood", errorName: "CONFIG_RTT_THRESHOLDS") { $0.rttGood = .seconds(2); $0.rttPoor = .seconds(1) },
        .init(field: "headers", errorName: "CONFIG_HEADER") { $0.headers = ["X-Till": "3", "no space": "x"] },
        .init(field: "headers", errorName: "CONFIG_HEADER") { $0.headers = ["X-Till": "3", "": "empty name"] },
        .init(field: "headers", errorName: "CONFIG_HEADER") { $0.headers = ["X-Till": "3\r\nX-Evil: 1"] },
        // joined as "X:Y: v", C would read a header X: the binding refuses it
        .init(field: "headers", errorName: "CONFIG_HEADER") { $0.headers = ["X:Y": "v"] },
        .init(field: "httpProxy", errorName: "CONFIG_PROXY") { $0.httpProxy = "proxy-without-port" },
        .init(field: "queueMaxBytes", errorName: "CONFIG_LIMITS") { $0.queueMaxBytes = 0 },
        .init(field: "queueMaxMessages", errorName: "CONFIG_NEGATIVE") { $0.queueMaxMessages = -1 },
        .init(field: "discordWebhookURL", errorName: "CONFIG_WEBHOOK") { $0.discordWebhookURL = URL(string: "discord")! },
        .init(field: "alertLabels", errorName: "CONFIG_LABEL") { $0.alertLabels = [("Store", "12"), ("", "no name")] },
        .init(field: "alertLabels", errorName: "CONFIG_LABEL") { $0.alertLabels = [("Store: 12", "a colon in the name")] },
    ]
}

@Suite("Configuration and errors (no server)")
struct ConfigurationTests {
    static let url = URL(string: "ws://127.0.0.1:1/ws?store=s&user=u")!

    @Test("defaults are the C library's lifeline_config_init()")
    func defaultsComeFromTheCLibrary() {
        var c = lifeline_config()
        #expect(lifeline_config_init_sized(&c, MemoryLayout<lifeline_config>.size) == LifelineError.ok)
        #expect(c.struct_size == MemoryLayout<lifeline_config>.size)
        let config = Configuration(url: Self.url)
        #expect(config.url.absoluteString == "ws://127.0.0.1:1/ws?store=s&user=u")
        #expect(config.baseDelay == .milliseconds(c.base_delay_ms))
        #expect(config.maxDelay == .milliseconds(c.max_delay_ms))
        #expect(config.jitter == .milliseconds(c.jitter_ms))
        #expect(config.jitterMode == .additive)
        #expect(config.maxAttempts == Int(c.max_attempts))
        #expect(config.stableAfter == .milliseconds(c.stable_after_ms))
        #expect(config.downPingInterval == .milliseconds(c.down_ping_interval_ms))
        #expect(config.healthURL == nil)
        #expect(config.connectTimeout == .milliseconds(c.connect_timeout_ms))
        #expect(config.pingInterval == .milliseconds(c.ping_interval_ms))
        #expect(config.pingTimeout == .milliseconds(c.ping_timeout_ms))
        #expect(config.rttGood == .milliseconds(c.rtt_good_ms))
        #expect(config.rttPoor == .milliseconds(c.rtt_poor_ms))
        #expect(config.randomSeed == c.random_seed)
        #expect(config.headers.isEmpty && config.alertLabels.isEmpty)
        #expect(config.maxMessageBytes == Int(c.max_message_bytes))
        #expect(config.queuePolicy == .rejectNew)
        #expect(config.queueMaxMessages == Int(c.queue_max_messages))
        #expect(config.queueMaxBytes == Int(c.queue_max_bytes))
        #expect(config.alertMinInterval == .milliseconds(c.alert_min_interval_ms))
        #expect(config.discordWebhookURL == nil && config.loop == nil)
        #expect(config.logLevel == .warn)
        #expect(throws: Never.self) { try config.validate() }
    }

    @Test("a bad configuration throws naming the field", arguments: BadConfiguration.all)
    func badConfigurationNamesTheField(_ bad: BadConfiguration) throws {
        var config = Configuration(url: Self.url)
        bad.change(&config)

        let error = try #require(throws: LifelineError.self) { try config.validate() }
        #expect(error.field == bad.field)
        #expect(error.name == bad.errorName)
        #expect(error.code == Self.code(named: bad.errorName))
        if bad.errorName != "INVALID_ARGUMENT" {
            #expect(error.message == LifelineError.swiftNames(String(cString: lifeline_strerror(error.code))))
        }
        // One naming: the message says what field says, never the C name.
        #expect(!Self.namesACField(error.message), "\(error.message)")
        #expect("\(error)".contains(bad.field))

        // The client refuses it the same way, and nothing is left behind.
        let clientError = try #require(throws: LifelineError.self) {
            _ = try LifelineClient(configuration: config)
        }
        #expect(clientError == error)
    }

    @Test("a CA file that cannot be read is refused by validate() and the client, naming the field")
    func unreadableCAFileIsRefused() throws {
        var config = Configuration(url: Self.url)
        config.caFile = "/nonexistent/lifeline-ca.pem"
        // lifeline_config_validate() checks what lifeline_client_new() will
        let error = try #require(throws: LifelineError.self) { try config.validate() }
        #expect(error.field == "caFile")
        #expect(error.name == "CONFIG_CA_FILE")
        let clientError = try #require(throws: LifelineError.self) {
            _ = try LifelineClient(configuration: config)
        }
        #expect(clientError == error)
    }

    @Test("error messages name the fields as the Configuration properties, as field does")
    func messagesUseThePropertyNames() throws {
        var config = Configuration(url: Self.url)
        config.pingInterval = .milliseconds(300)
        config.pingTimeout = .milliseconds(300)
        let error = try #require(throws: LifelineError.self) { try config.validate() }
        #expect(error.field == "pingTimeout")
        #expect(error.message == "pingTimeout must be greater than zero and below pingInterval")
        #expect("\(error)" == "bad lifeline configuration: pingTimeout: "
            + "pingTimeout must be greater than zero and below pingInterval [CONFIG_PING_TIMEOUT (11)]")

        // Every error's text, configuration or not (PING_TIMEOUT arrives in events).
        for code in Int32(0)..<64 {
            #expect(!Self.namesACField(LifelineError(code: code).message), "error \(code)")
        }
        #expect(LifelineError(code: Self.code(named: "PING_TIMEOUT")).message == "no pong within pingTimeout")
        #expect(LifelineError(code: Self.code(named: "ALERTS_OFF")).message
            == "no alert channel is configured (discordWebhookURL)")
        #expect(LifelineError(code: Self.code(named: "CONFIG_LIMITS")).message
            == "maxMessageBytes, queueMaxMessages and queueMaxBytes must be greater than zero")
        #expect(LifelineError(code: Self.code(named: "CONFIG_JITTER_MODE")).message == "jitterMode is not a JitterMode")
        // Whole words only; the rest of the text is C's.
        #expect(LifelineError.swiftNames("url, lifeline_url_x, base_delay_ms. ws:// URL") == "url, lifeline_url_x, baseDelay. ws:// URL")
    }

    /// True when text holds a lifeline_config field name that is not also
    /// its property's (as a whole word): "ping_timeout_ms", "health_url".
    static func namesACField(_ text: String) -> Bool {
        let words = text.split { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_")) }.map(String.init)
        return words.contains { word in Configuration.propertyNames[word].map { $0 != word } ?? false }
    }

    @Test("state and quality raw values are the C names")
    func enumRawValuesAreTheCNames() {
        let cStates = (0..<LIFELINE_STATE_COUNT).map { String(cString: lifeline_state_name($0)) }
        #expect(ConnectionState.allCases.map(\.rawValue) == cStates)
        #expect(ConnectionState.serverDown.rawValue == "server_down")
        #expect(ConnectionState(rawValue: "server_down") == .serverDown)
        #expect(ConnectionState(rawValue: "no such state") == nil)
        #expect(ConnectionState(cValue: 99) == .error)
        let cQualities = [LIFELINE_QUALITY_UNKNOWN, LIFELINE_QUALITY_EXCELLENT, LIFELINE_QUALITY_GOOD,
                          LIFELINE_QUALITY_POOR].map { String(cString: lifeline_quality_name(Int32($0.rawValue))) }
        #expect(Quality.allCases.map(\.rawValue) == cQualities)
        #expect(Quality(rawValue: "good") == .good)
    }

    @Test("modes, policies and levels describe themselves with the C names")
    func enumDescriptionsAreTheCNames() {
        #expect(JitterMode.allCases.map(\.description) == ["additive", "full"])
        #expect(QueuePolicy.allCases.map(\.description) == ["reject", "drop_oldest", "off"])
        #expect(LogLevel.allCases.map(\.description) == ["error", "warn", "info", "debug"])
    }

    @Test("a C field is named as the Configuration property")
    func cFieldsAreNamedAsProperties() {
        let names = ["url": "url", "health_url": "healthURL", "discord_webhook_url": "discordWebhookURL",
                     "allow_insecure_tls": "allowInsecureTLS", "rtt_good_ms": "rttGood",
                     "ping_timeout_ms": "pingTimeout", "alert_min_interval_ms": "alertMinInterval",
                     "queue_max_messages": "queueMaxMessages", "ca_file": "caFile",
                     "permessage_deflate": "permessageDeflate", "headers": "headers",
                     "header_count": "headers", "some_new_field": "someNewField"]
        for (cField, property) in names {
            #expect(Configuration.propertyName(cField) == property)
        }
        // The table names every stored property, and only those.
        let properties = Set(Mirror(reflecting: Configuration(url: Self.url)).children.compactMap(\.label))
        #expect(Set(Configuration.propertyNames.values) == properties)
    }

    @Test("durations go to C as whole milliseconds, a fraction rounded up")
    func durationsAreRoundedUpToMilliseconds() throws {
        #expect(Configuration.milliseconds(.seconds(5)) == 5000)
        #expect(Configuration.milliseconds(.milliseconds(1500)) == 1500)
        #expect(Configuration.milliseconds(.microseconds(1)) == 1)
        #expect(Configuration.milliseconds(.microseconds(1001)) == 2)
        #expect(Configuration.milliseconds(.zero) == 0)
        #expect(Configuration.milliseconds(.microseconds(-1500)) == -1)
        #expect(Configuration.milliseconds(.milliseconds(-3)) == -3)
        #expect(Configuration.milliseconds(.seconds(Int64.max)) == nil)
        var config = Configuration(url: Self.url)
        config.baseDelay = .microseconds(100) // 1 ms for C, not 0
        config.maxDelay = .microseconds(900)
        config.pingInterval = .seconds(0.5)
        config.pingTimeout = .microseconds(499_999) // 500 ms for C: not below pingInterval
        let error = try #require(throws: LifelineError.self) { try config.validate() }
        #expect(error.field == "pingTimeout" && error.name == "CONFIG_PING_TIMEOUT")
        config.pingTimeout = .milliseconds(499)
        try config.validate()
    }

    @Test("headers go to C sorted by name, alert labels in their order")
    func headersAndLabelsAsCLines() throws {
        var config = Configuration(url: Self.url)
        config.headers = ["X-Till": "3", "Authorization": "Bearer a:b", "accept-language": "fr"]
        config.alertLabels = [("Store", "12"), ("Device", "till-3: front")]
        func lines(_ p: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) -> [String] {
            (0..<count).map { String(cString: p![$0]!) }
        }
        let (headers, labels) = try config.withCConfig { c in
            (lines(c.headers, c.header_count), lines(c.alert_labels, c.alert_label_count))
        }
        #expect(headers == ["Authorization: Bearer a:b", "X-Till: 3", "accept-language: fr"])
        #expect(labels == ["Store: 12", "Device: till-3: front"])
        try config.validate()
    }

    @Test("a refused call throws the C code, name and text")
    func refusedCallCarriesCodeNameAndText() throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        #expect(client.state == .idle)
        // Reconnect now is refused before start.
        let error = try #require(throws: LifelineError.self) { try client.reconnectNow() }
        #expect(error == .failed(code: Int32(LIFELINE_ERR_STATE.rawValue), name: "STATE",
                                 message: String(cString: lifeline_strerror(Int32(LIFELINE_ERR_STATE.rawValue)))))
        #expect(error.field == nil)
        // Alerts need a webhook.
        let alertError = try #require(throws: LifelineError.self) { try client.alert(title: "t", text: "x") }
        #expect(alertError.name == "ALERTS_OFF")
        #expect(!LifelineClient.libraryVersion.isEmpty)
    }

    @Test("messages still queued at stop come back as dropped, in order")
    func stopReportsQueuedMessagesAsDropped() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let log = await EventLog.recording(client.events)
        // An idle client queues.
        try client.send("one")
        try client.send([1, 2, 3])
        #expect(try client.stats().queuedMessages == 2)
        await client.stop()
        #expect(client.state == .closed)
        let first = try await log.next("first dropped") { if case let .dropped(m, r) = $0 { (m, r) } else { nil } }
        #expect(first.0 == .text("one") && first.1.name == "STOPPED")
        let second = try await log.next("second dropped") { if case let .dropped(m, r) = $0 { (m, r) } else { nil } }
        #expect(second.0 == .binary([1, 2, 3]) && second.1.name == "STOPPED")
        // Sending to a stopped client is refused, and never reported as dropped.
        let error = try #require(throws: LifelineError.self) { try client.send("late") }
        #expect(error.name == "STOPPED")
        client.close()
        try await log.waitUntilFinished()
    }

    @Test("close() frees the client, finishes events; later calls throw STOPPED")
    func closeFinishesTheEventStream() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let log = await EventLog.recording(client.events)
        client.close()
        client.close() // twice is harmless
        try await log.waitUntilFinished()
        #expect(client.state == .closed)
        #expect(throws: LifelineError.self) { try client.start() }
        #expect(throws: LifelineError.self) { try client.stats() }
        await client.stop() // does nothing
    }

    @Test("dropping the last reference frees the client and finishes events")
    func deinitFinishesTheEventStream() async throws {
        weak var weakClient: LifelineClient?
        weak var weakSink: EventSink?
        var events: LifelineEvents?
        do {
            let client = try LifelineClient(configuration: Configuration(url: Self.url))
            weakClient = client
            weakSink = client.sink
            events = client.events
            try client.start()
        }
        #expect(weakClient == nil)
        // The context box C held (passRetained) was given back after free.
        #expect(weakSink == nil)
        let log = await EventLog.recording(try #require(events))
        try await log.waitUntilFinished()
        // It had started: the stream holds its way to closed.
        #expect(await log.states.last == .closed)
    }

    @Test("sends from many tasks racing close(): each is accepted (then dropped) or refused")
    func concurrentSendsRacingClose() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let log = await EventLog.recording(client.events)
        let tasks = 8, perTask = 100 // below the default queue of 1000: idle queues all
        let (accepted, refused) = await withTaskGroup(of: (Int, Int).self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var ok = 0, stopped = 0
                    for n in 0..<perTask {
                        // One sender closes the client halfway through its own sends.
                        if t == 0 && n == perTask / 2 { client.close() }
                        do throws(LifelineError) {
                            try client.send("\(t)-\(n)")
                            ok += 1
                        } catch {
                            #expect(error.name == "STOPPED")
                            stopped += 1
                        }
                    }
                    return (ok, stopped)
                }
            }
            return await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        #expect(accepted + refused == tasks * perTask)
        #expect(refused >= perTask / 2) // at least the closing sender's second half
        try await log.waitUntilFinished()
        // Accepted means "written or reported as dropped": nothing is lost.
        let dropped = await log.events.filter { if case .dropped = $0 { true } else { false } }.count
        #expect(dropped == accepted)
    }

    static func code(named name: String) -> Int32 {
        (0..<64).first { String(cString: lifeline_error_name($0)) == name } ?? -1
    }
}
