import Foundation
import Lifeline
import Testing

/// Reliable delivery (lifeline.v1, issue 12) against the Node reference
/// server (`NodeServerProcess`), which echoes each message through the
/// session, and peer.py's `no_subprotocol` mode (`PeerProcess`). Tests wait
/// on events, never on sleeps.
@Suite("Reliable delivery, against the Node reference server", .serialized,
       .enabled(if: NodeServerProcess.available,
                "node or examples/node-reference/server.js is missing (set LIFELINE_NODE)"),
       .timeLimit(.minutes(1)))
struct ReliableTests {
    /// Expects `body` to throw the LifelineError named `name`.
    func expectLifelineError(_ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                             _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("no error; expected \(name)", sourceLocation: sourceLocation)
        } catch {
            #expect((error as? LifelineError)?.name == name, "\(error)", sourceLocation: sourceLocation)
        }
    }

    /// Nothing listens on the discard port.
    static let deadURL = URL(string: "ws://127.0.0.1:9/")!

    static func reliable(_ url: URL, outbox: Outbox = .memory) -> Configuration {
        var config = LiveTests.fastConfiguration(url)
        config.delivery = .reliable(outbox: outbox)
        return config
    }

    /// True once an ack reaches `id`, and `count` messages came.
    static func ackedAndEchoed(_ id: UInt64, _ count: Int) -> @Sendable ([LifelineEvent]) -> Bool {
        { events in
            events.contains { if case let .acked(acked) = $0 { acked >= id } else { false } }
                && events.compactMap(message).count >= count
        }
    }

    static func message(_ event: LifelineEvent) -> Message? {
        if case let .message(m) = event { m } else { nil }
    }

    /// A temporary folder, removed by the caller.
    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("lifeline-swift-reliable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("send returns increasing ids; acks reach the last; each echo arrives once, in order")
    func sendReturnsIncreasingIDs() async throws {
        let server = try NodeServerProcess()
        let client = try LifelineClient(configuration: Self.reliable(server.url))
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        try client.start()
        let sent = (1...50).map { "sale \($0)" }
        var ids: [UInt64] = []
        for text in sent { ids.append(try #require(try client.send(text))) }
        #expect(ids == Array(1...50))
        #expect(try client.send([0, 1, 2]) == 51)
        try await log.until("acked 51 and 51 echoes", Self.ackedAndEchoed(51, 51))
        let events = await log.events
        #expect(events.compactMap(Self.message) == sent.map { .text($0) } + [.binary([0, 1, 2])])
        let acked = events.compactMap { if case let .acked(id) = $0 { id } else { nil } }
        #expect(acked == acked.sorted() && acked.last == 51)
        let resumed = events.compactMap { if case let .resumed(r, n) = $0 { (r, n) } else { nil } }
        #expect(resumed.count == 1 && resumed.first! == (false, 0))
        let stats = try client.stats()
        #expect(stats.lastAckedID == 51 && stats.outboxMessages == 0 && stats.outboxBytes == 0)
        #expect(stats.messagesSent == 51 && stats.resumesLost == 0)
    }

    @Test("best effort: send returns nil and sendAcked throws STATE")
    func bestEffortSendReturnsNil() async throws {
        let server = try NodeServerProcess()
        let client = try LifelineClient(configuration: LiveTests.fastConfiguration(server.url))
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        try client.start()
        #expect(try client.send("plain") == nil)
        #expect(try await log.next("echo") { Self.message($0) } == .text("plain"))
        await expectLifelineError("STATE") { try await client.sendAcked("needs reliable") }
        #expect(try client.stats().lastAckedID == 0)
    }

    @Test("sendAcked returns once the server has the message")
    func sendAckedReturnsTheID() async throws {
        let server = try NodeServerProcess()
        let client = try LifelineClient(configuration: Self.reliable(server.url))
        defer { client.close() }
        try client.start()
        #expect(try await client.sendAcked("one") == 1)
        let ids = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for n in 2...11 { group.addTask { try await client.sendAcked("m\(n)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(ids.sorted() == Array(2...11))
        #expect(try client.stats().lastAckedID >= 11)
    }

    @Test("drop oldest: a dropped message's sendAcked throws QUEUE_FULL; the rest arrive once")
    func dropOldestFailsTheDroppedWait() async throws {
        let server = try NodeServerProcess()
        var dropping = Self.reliable(server.url)
        dropping.queuePolicy = .dropOldest
        dropping.queueMaxMessages = 2
        let client = try LifelineClient(configuration: dropping)
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        // before the start: m1's wait, then two more sends push m1 out
        let first = Task { try await client.sendAcked("m1") }
        let until = ContinuousClock.now + .seconds(5)
        while try client.stats().outboxMessages < 1 && ContinuousClock.now < until {
            await Task.yield() // m1 is in the outbox once its send has returned
        }
        _ = try client.send("m2")
        _ = try client.send("m3")
        await expectLifelineError("QUEUE_FULL") { _ = try await first.value }
        try client.start()
        try await log.until("acked 3 and 2 echoes", Self.ackedAndEchoed(3, 2))
        let events = await log.events
        #expect(events.compactMap(Self.message) == [.text("m2"), .text("m3")])
        let ids = events.compactMap { if case let .droppedID(id, reason) = $0 { (id, reason.name) } else { nil } }
        #expect(ids.count == 1 && ids.first?.0 == 1 && ids.first?.1 == "QUEUE_FULL")
    }

    @Test("sendAcked throws STOPPED when the client stops first")
    func sendAckedThrowsStoppedOnStop() async throws {
        let client = try LifelineClient(configuration: Self.reliable(Self.deadURL))
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        try client.start()
        let waiting = Task { try await client.sendAcked("never acknowledged") }
        _ = try await log.next("a retry") { if case .retry = $0 { true } else { nil } }
        await client.stop()
        await expectLifelineError("STOPPED") { _ = try await waiting.value }
        // an outbox in memory reports what it held as dropped at the stop
        let dropped = try await log.next("dropped") {
            if case let .dropped(m, reason) = $0 { (m, reason) } else { nil }
        }
        #expect(dropped.0 == .text("never acknowledged") && dropped.1.name == "STOPPED")
    }

    @Test("an outbox file carries what a closed client held to the next client")
    func outboxFileSurvivesTheClient() async throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("till.outbox")
        let offline = try LifelineClient(configuration: Self.reliable(Self.deadURL, outbox: .file(file)))
        let offlineLog = await EventLog.recording(offline.events)
        try offline.start()
        #expect(try (1...3).map { try offline.send("offline \($0)") } == [1, 2, 3])
        #expect(try offline.stats().outboxMessages == 3)
        _ = try await offlineLog.next("a retry") { if case .retry = $0 { true } else { nil } }
        await offline.stop()
        offline.close()
        try await offlineLog.waitUntilFinished()
        #expect(await offlineLog.events.allSatisfy { if case .dropped = $0 { false } else { true } })
        try LifelineClient.checkOutbox(at: file)

        let server = try NodeServerProcess()
        let online = try LifelineClient(configuration: Self.reliable(server.url, outbox: .file(file, durability: .full)))
        defer { online.close() }
        let log = await EventLog.recording(online.events)
        #expect(try online.stats().outboxMessages == 3) // read from the file
        try online.start()
        #expect(try online.send("online 4") == 4) // the session's numbering goes on
        try await log.until("acked 4 and 4 echoes", Self.ackedAndEchoed(4, 4))
        #expect(await log.events.compactMap(Self.message)
            == ["offline 1", "offline 2", "offline 3", "online 4"].map { .text($0) })
        #expect(try online.stats().outboxMessages == 0)
    }

    @Test("a damaged outbox file is refused, saying why")
    func damagedOutboxIsRefused() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.outbox")
        try Data(String(repeating: "not an outbox ", count: 100).utf8).write(to: bad)
        #expect { try LifelineClient.checkOutbox(at: bad) } throws: { error in
            let e = error as? LifelineError
            return e?.name == "OUTBOX_CORRUPT" && e?.message.contains(bad.path) == true
        }
        #expect { _ = try LifelineClient(configuration: Self.reliable(Self.deadURL, outbox: .file(bad))) } throws: { error in
            let e = error as? LifelineError
            return e?.name == "OUTBOX_CORRUPT" && e?.message.contains(bad.path) == true
        }
        try LifelineClient.checkOutbox(at: dir.appendingPathComponent("none.outbox")) // would be created
    }

    @Test("a server that does not speak lifeline.v1 is a permanent NOT_LIFELINE",
          .enabled(if: PeerProcess.available, "peer.py or /usr/bin/python3 is missing"))
    func notLifeline() async throws {
        let peer = try PeerProcess(mode: "no_subprotocol")
        let client = try LifelineClient(configuration: Self.reliable(peer.url))
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        try client.start()
        let waiting = Task { try await client.sendAcked("for a lifeline.v1 server") }
        let info = try await log.state(.error)
        #expect(info.error?.name == "NOT_LIFELINE")
        await expectLifelineError("NOT_LIFELINE") { _ = try await waiting.value }
        #expect(client.state == .error)
        #expect(try client.stats().lastError?.name == "NOT_LIFELINE")
    }

    @Test("a bad delivery setting is refused naming its property",
          arguments: ["subprotocol", "appPing", "queuePolicy", "ackEvery"])
    func badDeliverySettingIsRefused(property: String) {
        var config = Self.reliable(Self.deadURL)
        switch property {
        case "subprotocol": config.subprotocol = "chat"
        case "appPing": config.appPing = true
        case "queuePolicy": config.queuePolicy = .off
        default: config.ackEvery = 0
        }
        #expect { try config.validate() } throws: { error in
            let e = error as? LifelineError
            return e?.field == property && e?.name == "CONFIG_DELIVERY"
        }
    }

    @Test("the delivery defaults are the library's")
    func deliveryDefaults() {
        let config = Configuration(url: Self.deadURL)
        #expect(config.delivery == .bestEffort)
        #expect(config.ackEvery == 32 && config.ackDelay == .milliseconds(20))
        #expect(Delivery.bestEffort.description == "best_effort")
        #expect(Delivery.reliable().description == "reliable")
    }
}
