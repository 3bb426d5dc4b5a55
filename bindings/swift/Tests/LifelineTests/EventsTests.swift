@testable import Lifeline
import Testing

/// `client.events` with several iterators, without a server: an idle client
/// queues what is sent, and `stop()` reports it as dropped and ends closed.
@Suite("Events: every iterator gets every event (no server)")
struct EventsTests {
    static let url = ConfigurationTests.url

    /// Iterates `events` in a task of its own until it finishes; the
    /// iterator is made before this returns.
    static func collect(_ events: LifelineEvents) -> Task<[LifelineEvent], Never> {
        let iterator = events.makeAsyncIterator()
        return Task.detached { [iterator] in
            var iterator = iterator
            var seen: [LifelineEvent] = []
            while let event = await iterator.next() { seen.append(event) }
            return seen
        }
    }

    @Test("two concurrent iterators each see every event, in the same order")
    func twoIteratorsSeeTheSameEvents() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let a = Self.collect(client.events)
        let b = Self.collect(client.events)
        #expect(client.events.hub.subscriberCount == 2)
        for n in 0..<20 { try client.send("m\(n)") }
        try client.start()
        try client.reconnectNow()
        await client.stop()
        client.close()
        let (seenA, seenB) = await (a.value, b.value)
        #expect(seenA == seenB)
        let dropped = seenA.compactMap { if case let .dropped(.text(t), _) = $0 { t } else { nil } }
        #expect(dropped == (0..<20).map { "m\($0)" })
        let states = seenA.compactMap { if case let .state(_, new, _) = $0 { new } else { nil } }
        #expect(states.first == .connecting && states.last == .closed)
    }

    @Test("the first iterator also gets what came before it; a later one only what came after")
    func firstIteratorGetsTheBacklog() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        try client.send("before")
        await client.stop() // "before" is dropped before any iterator exists
        let first = Self.collect(client.events)
        let second = Self.collect(client.events)
        try client.start() // from closed: starts again
        await client.stop()
        client.close()
        let (seenFirst, seenSecond) = await (first.value, second.value)
        #expect(seenFirst.first?.droppedText == "before")
        #expect(!seenSecond.contains { $0.droppedText != nil })
        // From the second's start on, both saw the same events.
        #expect(!seenSecond.isEmpty)
        #expect(Array(seenFirst.suffix(seenSecond.count)) == seenSecond)
    }

    @Test("a loop that is left unsubscribes; the others go on")
    func leavingALoopUnsubscribes() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let hub = client.events.hub
        let stays = Self.collect(client.events)
        #expect(hub.subscriberCount == 1)
        do {
            var leaves = client.events.makeAsyncIterator()
            #expect(hub.subscriberCount == 2)
            try client.send("one")
            await client.stop()
            #expect(await leaves.next()?.droppedText == "one")
        } // the iterator is gone, as after a break
        #expect(hub.subscriberCount == 1)
        client.close()
        let seen = await stays.value
        #expect(seen.first?.droppedText == "one")
        #expect(hub.subscriberCount == 0)
    }

    @Test("an iterator made after close() finishes at once")
    func iteratorAfterCloseFinishes() async throws {
        let client = try LifelineClient(configuration: Configuration(url: Self.url))
        let first = Self.collect(client.events)
        client.close()
        _ = await first.value
        var late = client.events.makeAsyncIterator()
        #expect(await late.next() == nil)
    }
}

extension LifelineEvent {
    /// The text of a dropped text message, nil for any other event.
    var droppedText: String? {
        if case let .dropped(.text(text), _) = self { text } else { nil }
    }
}
