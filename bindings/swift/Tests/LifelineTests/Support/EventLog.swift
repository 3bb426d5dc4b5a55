import Lifeline

/// Records a client's events (iterating `client.events` in a task of its own;
/// every log gets every event) and lets a test wait, with a timeout, for the next event that matches.
///
/// `next` consumes: it moves a cursor past every event it looked at, so a
/// test reads the events in order, as a script.
actor EventLog {
    struct TimedOut: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var events: [LifelineEvent] = []
    private var cursor = 0
    private var finished = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var generation = 0
    private var consumer: Task<Void, Never>?

    /// Starts recording `events`: its iterator is made before this returns.
    static func recording(_ events: LifelineEvents) async -> EventLog {
        let log = EventLog()
        await log.consume(events.makeAsyncIterator())
        return log
    }

    private func consume(_ iterator: sending LifelineEvents.Iterator) {
        consumer = Task { [weak self, iterator] in
            var iterator = iterator
            while let event = await iterator.next() {
                await self?.append(event)
            }
            await self?.finish()
        }
    }

    private func append(_ event: LifelineEvent) {
        events.append(event)
        wake()
    }

    private func finish() {
        finished = true
        wake()
    }

    private func wake() {
        generation += 1
        waiter?.resume()
        waiter = nil
    }

    /// True once the stream has finished.
    var isFinished: Bool { finished }

    /// The `new` state of every state event so far.
    var states: [ConnectionState] {
        events.compactMap { if case let .state(_, new, _) = $0 { new } else { nil } }
    }

    /// Waits for the next event for which `match` gives a value, and returns
    /// that value. Throws `TimedOut` (listing what came) after `timeout`.
    func next<T: Sendable>(_ what: String, within timeout: Duration = .seconds(10),
                           _ match: @Sendable (LifelineEvent) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            while cursor < events.count {
                let event = events[cursor]
                cursor += 1
                if let value = match(event) { return value }
            }
            if finished || ContinuousClock.now >= deadline {
                let seen = events.map { "\($0)" }.joined(separator: "\n  ")
                throw TimedOut(description: "no \(what) within \(timeout)\(finished ? " (stream finished)" : ""); events:\n  \(seen)")
            }
            await waitForChange(until: deadline)
        }
    }

    /// Waits until `holds` is true of every event so far (the cursor does
    /// not move). Throws `TimedOut` (listing what came) after `timeout`.
    func until(_ what: String, within timeout: Duration = .seconds(10),
               _ holds: @Sendable ([LifelineEvent]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !holds(events) {
            if finished || ContinuousClock.now >= deadline {
                let seen = events.map { "\($0)" }.joined(separator: "\n  ")
                throw TimedOut(description: "not \(what) within \(timeout); events:\n  \(seen)")
            }
            await waitForChange(until: deadline)
        }
    }

    /// Waits for a state event entering `state`; returns its info.
    @discardableResult
    func state(_ state: ConnectionState, within timeout: Duration = .seconds(10)) async throws -> StateInfo {
        try await next("state \(state)", within: timeout) {
            if case let .state(_, new, info) = $0, new == state { info } else { nil }
        }
    }

    /// Suspends until an event arrives, the stream finishes or the deadline passes.
    private func waitForChange(until deadline: ContinuousClock.Instant) async {
        let expected = generation
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.timerFired(expected)
        }
        await withCheckedContinuation { continuation in
            waiter = continuation
        }
        timer.cancel()
    }

    private func timerFired(_ expected: Int) {
        if generation == expected { wake() }
    }

    /// Waits until the stream has finished (the client was closed).
    func waitUntilFinished(within timeout: Duration = .seconds(10)) async throws {
        _ = try? await next("end of stream", within: timeout) { _ in nil as Int? }
        if !finished { throw TimedOut(description: "the event stream did not finish within \(timeout)") }
    }
}
