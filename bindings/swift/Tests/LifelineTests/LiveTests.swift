import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Lifeline
import Testing

/// The client against a real `lifeline-server` on loopback. Each test starts
/// its own server on a free port and waits on events, never on sleeps.
@Suite("Live, against lifeline-server", .serialized,
       .enabled(if: serverAvailable, "set LIFELINE_SERVER_BIN to the lifeline-server binary"),
       .timeLimit(.minutes(1)))
struct LiveTests {
    /// The short timings of the reconnection tests.
    static func fastConfiguration(_ url: URL) -> Configuration {
        var config = Configuration(url: url)
        config.baseDelay = .milliseconds(100)
        config.maxDelay = .milliseconds(400)
        config.jitter = .milliseconds(20)
        config.maxAttempts = 3
        config.downPingInterval = .milliseconds(100)
        config.pingInterval = .milliseconds(300)
        config.pingTimeout = .milliseconds(150)
        config.connectTimeout = .seconds(2)
        return config
    }

    struct Echo: Decodable, Equatable {
        let type: String
        let data: Int
    }

    static func echo(_ n: Int) -> String { #"{"type":"echo","data":\#(n)}"# }

    static func decodeEcho(_ event: LifelineEvent) -> Echo? {
        guard case let .message(.text(text)) = event else { return nil }
        return try? JSONDecoder().decode(Echo.self, from: Data(text.utf8))
    }

    /// A port bound and never listening: every connection to it is
    /// refused while fd (close it) is open.
    static func closedPort() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        #expect(bound)
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    @Test("networkChanged: the pending attempt happens now, its number kept")
    func networkChanged() async throws {
        let (fd, port) = Self.closedPort()
        defer { close(fd) }
        var config = Configuration(url: URL(string: "ws://127.0.0.1:\(port)/ws")!)
        config.baseDelay = .seconds(60) // the schedule's wait: far longer than the test
        config.maxDelay = .seconds(60)
        config.jitter = .zero
        config.watchNetwork = false // only the call below
        let client = try LifelineClient(configuration: config)
        defer { client.close() }
        let log = await EventLog.recording(client.events)
        try client.start()
        _ = try await log.state(.disconnected)
        try client.networkChanged()
        let again = try await log.state(.connecting, within: .seconds(2))
        #expect(again.attempt == 1)
        _ = try await log.state(.disconnected, within: .seconds(5))
        #expect(try client.stats().attempt == 1)
    }

    @Test("fallback: url on a closed port, the client lands on the live fallback and says which")
    func fallback() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let (fd, deadPort) = Self.closedPort()
        defer { close(fd) }
        var config = Self.fastConfiguration(URL(string: "ws://127.0.0.1:\(deadPort)/ws")!)
        config.fallbackURLs = [server.url()]
        let client = try LifelineClient(configuration: config)
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        let failed = try await log.state(.disconnected)
        #expect(failed.urlIndex == 0 && failed.error?.name == "CONNECTION_REFUSED")
        let landed = try await log.state(.connected)
        #expect(landed.urlIndex == 1 && landed.attempt == 1)
        #expect(landed.url.hasPrefix("ws://127.0.0.1:\(server.port)/"))
        #expect(try client.stats().urlIndex == 1)
        try client.send(Self.echo(14))
        let echo = try await log.next("echo") { Self.decodeEcho($0) }
        #expect(echo == Echo(type: "echo", data: 14))
    }

    @Test("echo: text and binary come back, the first ping is answered")
    func echo() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let client = try LifelineClient(configuration: Configuration(url: server.url()))
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        let info = try await log.state(.connected)
        #expect(info.error == nil && info.attempt == 0)
        // The first ping goes out as soon as the connection opens.
        let pong = try await log.next("pong") { if case let .pong(rtt, q) = $0 { (rtt, q) } else { nil } }
        #expect(pong.0 >= .zero && pong.1 != .unknown)

        try client.send(#"{"type":"echo","data":"héllo ✓"}"#)
        let text = try await log.next("text echo") { if case let .message(.text(t)) = $0 { t } else { nil } }
        struct TextEcho: Decodable { let type: String; let data: String }
        let decoded = try JSONDecoder().decode(TextEcho.self, from: Data(text.utf8))
        #expect(decoded.type == "echo" && decoded.data == "héllo ✓")

        let bytes: [UInt8] = [0, 1, 2, 254, 255]
        try client.send(bytes)
        let binary = try await log.next("binary echo") { if case let .message(.binary(b)) = $0 { b } else { nil } }
        #expect(binary == bytes)

        let stats = try client.stats()
        #expect(stats.state == .connected)
        #expect(stats.messagesSent == 2 && stats.messagesReceived == 2)
        #expect(stats.pongs >= 1 && stats.quality != .unknown)
        #expect(stats.queuedMessages == 0)
        #expect(stats.sinceLastPong != nil && stats.rttMax >= stats.rttMin)

        // stop(timeout:) returns once closed; the server answers the close at once.
        let clock = ContinuousClock()
        let took = await clock.measure { await client.stop(timeout: .seconds(1)) }
        #expect(client.state == .closed && took < .seconds(1))
        let closed = try await log.next("closed") { if case let .state(old, .closed, _) = $0 { old } else { nil } }
        #expect(closed == .connected)
    }

    @Test("state sequence through a server restart")
    func stateSequenceThroughServerRestart() async throws {
        var server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        var config = Configuration(url: server.url())
        // A first retry well after the new server is listening, so the
        // sequence has exactly one reconnection attempt.
        config.baseDelay = .seconds(1)
        config.maxDelay = .seconds(1)
        config.jitter = .milliseconds(20)
        let client = try LifelineClient(configuration: config)
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        try await log.state(.connected)

        server.stop()
        let lost = try await log.state(.disconnected)
        #expect(lost.error != nil)
        let retry = try await log.next("retry") { if case let .retry(a, d, p) = $0 { (a, d, p) } else { nil } }
        #expect(retry.0 == 1 && !retry.2)
        #expect((.milliseconds(1000) ..< .milliseconds(1020)).contains(retry.1))

        server = try server.restarted()
        let back = try await log.state(.connected)
        #expect(back.error == nil)

        #expect(await log.states == [.connecting, .connected, .disconnected, .connecting, .connected])
        #expect(try client.stats().reconnections == 1)
    }

    @Test("two tasks iterating events both see the whole state sequence and every message")
    func twoIteratorsSeeTheSameStateSequence() async throws {
        var server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let client = try LifelineClient(configuration: Self.fastConfiguration(server.url()))
        defer { client.close() }
        // Two tasks, each with its own for-await loop over client.events.
        let first = await EventLog.recording(client.events)
        let second = await EventLog.recording(client.events)

        try client.start()
        try client.send(Self.echo(1))
        for log in [first, second] {
            try await log.state(.connected)
            #expect(try await log.next("echo") { Self.decodeEcho($0) }.data == 1)
        }
        server.stop()
        for log in [first, second] { try await log.state(.disconnected) }
        server = try server.restarted()
        for log in [first, second] { try await log.state(.connected) }

        let expected: [ConnectionState] = [.connecting, .connected, .disconnected, .connecting, .connected]
        #expect(await first.states == expected)
        #expect(await second.states == expected)
        // Not only the states: the same events, in the same order.
        client.close()
        try await first.waitUntilFinished()
        try await second.waitUntilFinished()
        #expect(await first.events == second.events)
    }

    @Test("server_down after maxAttempts, probes, and recovery")
    func serverDownAndRecovery() async throws {
        var server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let client = try LifelineClient(configuration: Self.fastConfiguration(server.url()))
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        try await log.state(.connected)
        server.stop()

        // Attempts 1...3 wait min(100 * 2^(n-1), 400) ms plus jitter in [0, 20).
        for attempt in 1...3 {
            let retry = try await log.next("retry \(attempt)") {
                if case let .retry(a, d, p) = $0 { (a, d, p) } else { nil }
            }
            #expect(retry.0 == attempt && !retry.2)
            let base = Duration.milliseconds(min(100 << (attempt - 1), 400))
            #expect((base ..< base + .milliseconds(20)).contains(retry.1), "attempt \(attempt) waits \(retry.1)")
        }
        try await log.state(.serverDown)
        #expect(client.state == .serverDown)
        let probe = try await log.next("probe") { if case let .retry(_, d, p) = $0, p { d } else { nil } }
        #expect(probe == .milliseconds(100))

        server = try server.restarted()
        // A successful probe goes straight from server_down to connected.
        let old = try await log.next("recovery") {
            if case let .state(old, .connected, _) = $0 { old } else { nil }
        }
        #expect(old == .serverDown)
        let pong = try await log.next("pong after recovery") { if case let .pong(_, q) = $0 { q } else { nil } }
        #expect(pong != .unknown)

        try client.send(Self.echo(7))
        let echo = try await log.next("echo after recovery") { Self.decodeEcho($0) }
        #expect(echo == Echo(type: "echo", data: 7))
        let stats = try client.stats()
        #expect(stats.state == .connected && stats.attempt == 0)
        #expect(stats.downtime > .zero)
    }

    @Test("offline queue: 50 messages sent while down arrive in order after restart")
    func offlineQueueKeepsOrder() async throws {
        var server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let client = try LifelineClient(configuration: Self.fastConfiguration(server.url()))
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        try await log.state(.connected)
        server.stop()
        try await log.state(.disconnected)

        for n in 0..<50 { try client.send(Self.echo(n)) }
        #expect(try client.stats().queuedMessages == 50)

        server = try server.restarted()
        try await log.state(.connected)
        var received: [Int] = []
        for n in 0..<50 {
            let echo = try await log.next("echo \(n)") { Self.decodeEcho($0) }
            received.append(echo.data)
        }
        #expect(received == Array(0..<50))
        let stats = try client.stats()
        #expect(stats.queuedMessages == 0 && stats.messagesDropped == 0)
    }

    @Test("a refused upgrade (401) is a permanent error until reconnectNow")
    func permanentErrorAndReconnectNow() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        try await setFault(server, mode: "reject_401")
        let client = try LifelineClient(configuration: Self.fastConfiguration(server.url()))
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.start()
        let info = try await log.state(.error)
        #expect(info.httpStatus == 401)
        #expect(info.error?.name == "HTTP_STATUS")
        #expect(!info.reason.isEmpty)
        #expect(try client.stats().lastHTTPStatus == 401)

        try await setFault(server, mode: "none")
        try client.reconnectNow()
        try await log.state(.connected)
        #expect(await log.states == [.connecting, .error, .connecting, .connected])
    }

    @Test("two clients share one loop")
    func sharedLoop() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        var config = Configuration(url: server.url(user: "a"))
        config.loop = try LifelineLoop()
        let a = try LifelineClient(configuration: config)
        defer { a.close() }
        config.url = server.url(user: "b")
        let b = try LifelineClient(configuration: config)
        defer { b.close() }
        let logA = await EventLog.recording(a.events)
        let logB = await EventLog.recording(b.events)

        try a.start()
        try b.start()
        try await logA.state(.connected)
        try await logB.state(.connected)
        try a.send(Self.echo(1))
        try b.send(Self.echo(2))
        #expect(try await logA.next("echo a") { Self.decodeEcho($0) }.data == 1)
        #expect(try await logB.next("echo b") { Self.decodeEcho($0) }.data == 2)
    }

    @Test("close() inside the iteration of events, on a message: the iteration ends, nothing follows")
    func closeInsideTheEventLoop() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        let client = try LifelineClient(configuration: Configuration(url: server.url()))
        try client.start()
        var messages = 0
        for await event in client.events {
            if case .state(_, .connected, _) = event {
                for n in 1...20 { try client.send(Self.echo(n)) }
            }
            // What was reported before close() is still read, then the loop ends.
            if client.state != .closed, Self.decodeEcho(event) != nil {
                messages += 1
                client.close() // the iteration ends once what was reported is read
            }
        }
        #expect(messages == 1)
        #expect(client.state == .closed)
        #expect(throws: LifelineError.self) { try client.send(Self.echo(0)) }
        // Nothing is reported after close(): an iterator made now ends at once.
        var later = 0
        for await _ in client.events { later += 1 }
        #expect(later == 0)
    }

    @Test("two clients and their shared loop freed from inside the iteration of events")
    func closeClientsAndLoopInsideTheEventLoop() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        weak var weakLoop: LifelineLoop?
        do {
            var config = Configuration(url: server.url(user: "a"))
            let loop = try LifelineLoop()
            weakLoop = loop
            config.loop = loop
            let a = try LifelineClient(configuration: config)
            config.url = server.url(user: "b")
            let b = try LifelineClient(configuration: config)
            config.loop = nil
            try b.start()
            try a.start()
            for await event in a.events {
                if case .state(_, .connected, _) = event {
                    b.close()
                    a.close()
                }
            }
            #expect(a.state == .closed && b.state == .closed)
        }
        // The clients were the loop's last owners: lifeline_loop_free() ran.
        #expect(weakLoop == nil)
    }

    @Test("an alert's outcome comes back as notify (a webhook answering 404 is dropped)")
    func alertOutcomeIsNotified() async throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeDirectory() }
        var config = Configuration(url: server.url())
        // lifeline-server answers 404 here: a webhook that is gone.
        config.discordWebhookURL = URL(string: "http://127.0.0.1:\(server.port)/no-such-webhook")!
        config.alertLabels = [("Store", "swift"), ("Device", "tests")]
        let client = try LifelineClient(configuration: config)
        defer { client.close() }
        let log = await EventLog.recording(client.events)

        try client.alert(title: "Till 3", text: "drawer open")
        let info = try await log.next("notify") { if case let .notify(i) = $0 { i } else { nil } }
        #expect(info.channel == "discord" && info.kind == "custom")
        #expect(!info.ok && info.httpStatus == 404 && info.attempts >= 1)
        #expect(!info.detail.isEmpty)
        let error = try #require(throws: LifelineError.self) { try client.alert(title: "again", text: "x") }
        #expect(error.name == "NOTIFY_GONE")
    }

    /// POST /api/v1/admin/fault {"mode": mode} from loopback.
    func setFault(_ server: ServerProcess, mode: String) async throws {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v1/admin/fault")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"mode":"\#(mode)"}"#.utf8)
        request.timeoutInterval = 5
        let status: Int = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { _, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: (response as? HTTPURLResponse)?.statusCode ?? 0)
                }
            }.resume()
        }
        #expect((200..<300).contains(status), "fault \(mode): HTTP \(status)")
    }
}
