import Dispatch
import Foundation
import Lifeline
import Testing

/// Shutting down (issue 16): what was sent just before `stop()` or
/// `close()` is written before the close frame, and the close's answer is
/// awaited, at most the timeout; `Stats.lastCloseAnswered` says whether it
/// came. The peer is peer.py (see `PeerProcess`), as in the C tests of
/// tests/integration/test_shutdown.c: `raw_listen` answers the close,
/// `raw_no_close_reply` never does; both report what the client sent, and
/// the tests wait on those reports, never on sleeps.
@Suite("Shutdown, against peer.py", .serialized,
       .enabled(if: PeerProcess.available,
                "peer.py or /usr/bin/python3 is missing (set LIFELINE_PEER to tests/integration/peer.py)"),
       .timeLimit(.minutes(1)))
struct ShutdownTests {
    /// Sent just before the end: small orders, then one large enough to
    /// take several writes of the socket.
    static let orders = (1...20).map { "order \($0)" } + ["final order " + String(repeating: "x", count: 65536)]

    /// What the peer must report, in this order: every order, then one close 1000.
    static let writtenThenClosed = orders.map { PeerProcess.Frame.message(shown($0)) } + [.close(1000)]

    /// How the client is ended.
    enum Ending: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// `await stop()`: the library's default timeout, 2 s.
        case stop = "await stop()"
        /// `await stop(timeout:)`, 1 s against a server that never answers.
        case stopTimeout = "await stop(timeout:)"
        /// `close()`, the synchronous form: stops (2 s) and frees.
        case close = "close()"

        var testDescription: String { rawValue }
    }

    /// A started client, connected to the peer, and its events.
    static func connectedClient(_ peer: PeerProcess) async throws -> (LifelineClient, EventLog) {
        let client = try LifelineClient(configuration: Configuration(url: peer.url))
        let log = await EventLog.recording(client.events)
        try client.start()
        try await log.state(.connected)
        return (client, log)
    }

    /// Ends the client as `ending` says; returns how long that took.
    /// `close()` blocks, so it runs on a Dispatch worker, off the test's executor.
    static func end(_ client: LifelineClient, _ ending: Ending, timeout: Duration) async -> Duration {
        let clock = ContinuousClock()
        switch ending {
        case .stop:
            return await clock.measure { await client.stop() }
        case .stopTimeout:
            return await clock.measure { await client.stop(timeout: timeout) }
        case .close:
            return await clock.measure {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        client.close()
                        done.resume()
                    }
                }
            }
        }
    }

    /// The events end with `closed` and hold no `dropped`: on_dropped comes
    /// before on_state(closed), the last event.
    static func expectClosedAndNothingDropped(_ log: EventLog, _ ending: Ending) async throws {
        if ending == .close {
            try await log.waitUntilFinished() // close() returned: every event is in
        } else {
            try await log.state(.closed)
        }
        let events = await log.events
        let dropped = events.filter { if case .dropped = $0 { true } else { false } }
        #expect(dropped.isEmpty, "\(dropped.count) messages dropped")
        #expect(await log.states.last == .closed)
    }

    @Test("a server that answers: every message is written, then the close 1000, and the answer comes",
          arguments: Ending.allCases)
    func answeredClose(_ ending: Ending) async throws {
        let peer = try PeerProcess(mode: "raw_listen")
        defer { peer.stop() }
        let (client, log) = try await Self.connectedClient(peer)
        defer { client.close() }

        for order in Self.orders { try client.send(order) }
        let took = await Self.end(client, ending, timeout: .seconds(10))

        if ending == .close {
            // close() waits at most 2 s and frees the client (no stats): one
            // that took less got its answer.
            #expect(took < .milliseconds(1800), "close() waited \(took) for a server that answered")
        } else {
            let bound: Duration = ending == .stop ? .milliseconds(1800) : .seconds(5)
            #expect(took < bound, "\(ending.rawValue) waited \(took) for a server that answered")
            let stats = try client.stats()
            #expect(stats.state == .closed)
            #expect(stats.lastCloseAnswered)
            #expect(stats.messagesSent == UInt64(Self.orders.count))
            #expect(stats.messagesDropped == 0 && stats.queuedMessages == 0)
        }
        try peer.wait(for: "close_received")
        #expect(peer.frames == Self.writtenThenClosed)
        try await Self.expectClosedAndNothingDropped(log, ending)
    }

    @Test("a server that never answers: the stop waits its timeout, no more, and says so",
          arguments: Ending.allCases)
    func unansweredClose(_ ending: Ending) async throws {
        let peer = try PeerProcess(mode: "raw_no_close_reply")
        defer { peer.stop() }
        let (client, log) = try await Self.connectedClient(peer)
        defer { client.close() }

        for order in Self.orders { try client.send(order) }
        // stop(timeout:) 1 s; stop() and close() the library's 2 s
        let wait: Duration = ending == .stopTimeout ? .seconds(1) : .seconds(2)
        let took = await Self.end(client, ending, timeout: wait)

        // It waited (the whole bound, less a tick of the loop's timer) and
        // was bounded (generously, for a loaded machine).
        #expect(took >= wait * 0.8 && took < wait + .seconds(5),
                "\(ending.rawValue) took \(took), its bound is \(wait)")
        if ending != .close {
            let stats = try client.stats()
            #expect(stats.state == .closed)
            #expect(!stats.lastCloseAnswered)
            #expect(stats.messagesSent == UInt64(Self.orders.count))
            #expect(stats.messagesDropped == 0)
        }
        try peer.wait(for: "eof") // the client gave up and ended the connection
        #expect(peer.frames == Self.writtenThenClosed)
        try await Self.expectClosedAndNothingDropped(log, ending)
    }

    @Test("lastCloseAnswered is false after a stop that found no connection")
    func noConnectionNoAnswer() async throws {
        // nothing listens on port 9: the attempts are refused
        let client = try LifelineClient(configuration: Configuration(url: URL(string: "ws://127.0.0.1:9/ws")!))
        defer { client.close() }
        try client.start()
        await client.stop()
        #expect(try client.stats().lastCloseAnswered == false)
    }
}
