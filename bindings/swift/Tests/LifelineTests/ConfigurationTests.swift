import CLifeline
@testable import Lifeline
import Testing

/// A bad configuration and the field and error it must be refused with.
struct BadConfiguration: Sendable, CustomTestStringConvertible {
    let field: String
    let errorName: String
    let change: @Sendable (inout Configuration) -> Void

    var testDescription: String { "\(field) -> \(errorName)" }

    static let all: [BadConfiguration] = [
        .init(field: "url", errorName: "CONFIG_URL") { $0.url = "http://127.0.0.1/ws" },
        .init(field: "url", errorName: "INVALID_ARGUMENT") { $0.url = "ws://127.0.0.1/\u{0}ws" },
        .init(field: "jitterMs", errorName: "CONFIG_NEGATIVE") { $0.jitterMs = -1 },
        .init(field: "stableAfterMs", errorName: "CONFIG_NEGATIVE") { $0.stableAfterMs = -1 },
        .init(field: "alertMinIntervalMs", errorName: "CONFIG_NEGATIVE") { $0.alertMinIntervalMs = -5 },
        .init(field: "baseDelayMs", errorName: "CONFIG_BASE_DELAY") { $0.baseDelayMs = 0 },
        .init(field: "baseDelayMs", errorName: "INVALID_ARGUMENT") { $0.baseDelayMs = Int(Int32.max) + 1 },
        .init(field: "maxDelayMs", errorName: "CONFIG_MAX_DELAY") { $0.baseDelayMs = 500; $0.maxDelayMs = 400 },
        // a rule between two fields: C names the one changed from its default
        .init(field: "baseDelayMs", errorName: "CONFIG_MAX_DELAY") { $0.baseDelayMs = 40000 },
        .init(field: "pingIntervalMs", errorName: "CONFIG_PING_TIMEOUT") { $0.pingIntervalMs = 5000 },
        .init(field: "rttPoorMs", errorName: "CONFIG_RTT_THRESHOLDS") { $0.rttPoorMs = 100 },
        .init(field: "maxAttempts", errorName: "CONFIG_MAX_ATTEMPTS") { $0.maxAttempts = 0 },
        .init(field: "downPingIntervalMs", errorName: "CONFIG_DOWN_PING_INTERVAL") { $0.downPingIntervalMs = 0 },
        .init(field: "healthURL", errorName: "CONFIG_HEALTH_URL") { $0.healthURL = "ftp://127.0.0.1/health" },
        .init(field: "connectTimeoutMs", errorName: "CONFIG_CONNECT_TIMEOUT") { $0.connectTimeoutMs = 0 },
        .init(field: "pingIntervalMs", errorName: "CONFIG_PING_INTERVAL") { $0.pingIntervalMs = 0 },
        .init(field: "pingTimeoutMs", errorName: "CONFIG_PING_TIMEOUT") { $0.pingIntervalMs = 300; $0.pingTimeoutMs = 300 },
        .init(field: "rttGoodMs", errorName: "CONFIG_RTT_THRESHOLDS") { $0.rttGoodMs = 2000; $0.rttPoorMs = 1000 },
        .init(field: "headers", errorName: "CONFIG_HEADER") { $0.headers = ["X-Till: 3", "no colon"] },
        .init(field: "httpProxy", errorName: "CONFIG_PROXY") { $0.httpProxy = "proxy-without-port" },
        .init(field: "queueMaxBytes", errorName: "CONFIG_LIMITS") { $0.queueMaxBytes = 0 },
        .init(field: "queueMaxMessages", errorName: "CONFIG_NEGATIVE") { $0.queueMaxMessages = -1 },
        .init(field: "discordWebhookURL", errorName: "CONFIG_WEBHOOK") { $0.discordWebhookURL = "discord" },
        .init(field: "alertLabels", errorName: "CONFIG_LABEL") { $0.alertLabels = ["Store: 12", ": no name"] },
    ]
}

@Suite("Configuration and errors (no server)")
struct ConfigurationTests {
    static let url = "ws://127.0.0.1:1/ws?store=s&user=u"

    @Test("defaults are the C library's lifeline_config_init()")
    func defaultsComeFromTheCLibrary() {
        var c = lifeline_config()
        #expect(lifeline_config_init_sized(&c, MemoryLayout<lifeline_config>.size) == LifelineError.ok)
        #expect(c.struct_size == MemoryLayout<lifeline_config>.size)
        let config = Configuration(url: Self.url)
        #expect(config.baseDelayMs == Int(c.base_delay_ms))
        #expect(config.maxDelayMs == Int(c.max_delay_ms))
        #expect(config.jitterMs == Int(c.jitter_ms))
        #expect(config.jitterMode == .additive)
        #expect(config.maxAttempts == Int(c.max_attempts))
        #expect(config.stableAfterMs == Int(c.stable_after_ms))
        #expect(config.downPingIntervalMs == Int(c.down_ping_interval_ms))
        #expect(config.healthURL == nil)
        #expect(config.connectTimeoutMs == Int(c.connect_timeout_ms))
        #expect(config.pingIntervalMs == Int(c.ping_interval_ms))
        #expect(config.pingTimeoutMs == Int(c.ping_timeout_ms))
        #expect(config.rttGoodMs == Int(c.rtt_good_ms))
        #expect(config.rttPoorMs == Int(c.rtt_poor_ms))
        #expect(config.randomSeed == c.random_seed)
        #expect(config.headers.isEmpty && config.alertLabels.isEmpty)
        #expect(config.maxMessageBytes == Int(c.max_message_bytes))
        #expect(config.queuePolicy == .rejectNew)
        #expect(config.queueMaxMessages == Int(c.queue_max_messages))
        #expect(config.queueMaxBytes == Int(c.queue_max_bytes))
        #expect(config.alertMinIntervalMs == Int(c.alert_min_interval_ms))
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
            #expect(error.message == String(cString: lifeline_strerror(error.code)))
        }
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
                     "allow_insecure_tls": "allowInsecureTLS", "rtt_good_ms": "rttGoodMs",
                     "queue_max_messages": "queueMaxMessages", "ca_file": "caFile",
                     "permessage_deflate": "permessageDeflate", "headers": "headers"]
        for (cField, property) in names {
            #expect(Configuration.propertyName(cField) == property)
        }
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
        client.stop()
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
        client.stop() // does nothing
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
