/// The events of one ``LifelineClient``: an `AsyncSequence` that every
/// iterator sees whole.
///
/// Every `for await` loop over it (every iterator) receives every event the
/// client reports from the moment the loop starts until the client is
/// closed, in the order the library reported them: two tasks iterating
/// ``LifelineClient/events`` at the same time each see the same sequence;
/// they do not share it out between them.
///
/// Nothing is lost before the first loop: events are kept from the
/// client's creation until the first iterator is made, and that iterator
/// receives them first. So `start()` may come before the first
/// `for await`. Later iterators begin with the events reported after they
/// were made.
///
/// Each iterator buffers what its consumer has not read yet, as the client's
/// `bufferingPolicy` says (unbounded by default). An iterator that is left
/// (`break`, the loop's task cancelled) stops receiving: its buffer is
/// freed and the other iterators go on. Every iterator finishes once the
/// client is closed or deinitialised; one made after that finishes at once.
///
/// The sequence does not keep the client alive.
public struct LifelineEvents: AsyncSequence, Sendable {
    public typealias Element = LifelineEvent
    public typealias Failure = Never

    let hub: EventHub

    /// Subscribes: the iterator receives every event from now on (the first
    /// iterator also those reported since the client was created).
    public func makeAsyncIterator() -> Iterator {
        hub.subscribe()
    }

    /// One subscriber's view of the events; see ``LifelineEvents``.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = LifelineEvent
        public typealias Failure = Never

        var base: AsyncStream<LifelineEvent>.Iterator
        /// Unsubscribes when the last copy of the iterator goes away.
        let subscription: EventHub.Subscription

        /// The next event, or nil once the client is closed (or the
        /// consuming task is cancelled).
        public mutating func next() async -> LifelineEvent? {
            await base.next()
        }
    }
}

/// Hands each event of one client to every subscriber (every iterator of
/// ``LifelineEvents``), each through its own `AsyncStream`.
///
/// `publish` is called from the C callbacks, on the client's loop thread,
/// one at a time; `subscribe`, `unsubscribe` and `finish` from any thread.
/// `@unchecked Sendable`: every mutable field is guarded by `lock`. The lock
/// is held while yielding, so an event is given to exactly the subscribers
/// present when it was published; `AsyncStream.Continuation.yield` runs no
/// code of ours (no `onTermination` is set), so it cannot deadlock.
final class EventHub: @unchecked Sendable {
    /// Removes its subscriber from the hub when deinitialised, that is when
    /// the last copy of its iterator is gone (a `for await` loop left).
    final class Subscription: Sendable {
        private let hub: EventHub
        private let id: Int

        init(hub: EventHub, id: Int) {
            self.hub = hub
            self.id = id
        }

        deinit {
            hub.unsubscribe(id)
        }
    }

    private let lock = ReadWriteLock()
    private let bufferingPolicy: AsyncStream<LifelineEvent>.Continuation.BufferingPolicy
    /// Every live subscriber, by id. Guarded by `lock`.
    private var subscribers: [Int: AsyncStream<LifelineEvent>.Continuation] = [:]
    private var nextID = 0
    /// The stream subscribed at creation, for the first iterator. Guarded by `lock`.
    private var first: (id: Int, stream: AsyncStream<LifelineEvent>)?
    private var finished = false

    init(bufferingPolicy: AsyncStream<LifelineEvent>.Continuation.BufferingPolicy) {
        self.bufferingPolicy = bufferingPolicy
        let (stream, continuation) = AsyncStream<LifelineEvent>.makeStream(bufferingPolicy: bufferingPolicy)
        subscribers[nextID] = continuation
        first = (nextID, stream)
        nextID += 1
    }

    /// A new iterator: the stream kept since creation for the first one, a
    /// fresh subscription for every other (already finished once the hub is).
    func subscribe() -> LifelineEvents.Iterator {
        lock.withWriteLock {
            if let first {
                self.first = nil
                return LifelineEvents.Iterator(base: first.stream.makeAsyncIterator(),
                                               subscription: Subscription(hub: self, id: first.id))
            }
            let (stream, continuation) = AsyncStream<LifelineEvent>.makeStream(bufferingPolicy: bufferingPolicy)
            let id = nextID
            nextID += 1
            if finished {
                continuation.finish()
            } else {
                subscribers[id] = continuation
            }
            return LifelineEvents.Iterator(base: stream.makeAsyncIterator(),
                                           subscription: Subscription(hub: self, id: id))
        }
    }

    /// Ends one subscriber's stream and forgets it.
    func unsubscribe(_ id: Int) {
        let continuation = lock.withWriteLock { subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Gives the event to every subscriber. `event` is only made when there
    /// is one (a message nobody reads is not copied). A subscriber whose
    /// stream has ended (its task was cancelled) is forgotten.
    func publish(_ event: @autoclosure () -> LifelineEvent) {
        lock.withWriteLock {
            guard !subscribers.isEmpty else { return }
            let event = event()
            var ended: [Int] = []
            for (id, continuation) in subscribers {
                if case .terminated = continuation.yield(event) { ended.append(id) }
            }
            for id in ended { subscribers.removeValue(forKey: id) }
        }
    }

    /// Ends every stream, present and future: each consumer's `for await`
    /// ends after the events already buffered for it.
    func finish() {
        let ending = lock.withWriteLock {
            finished = true
            defer { subscribers = [:] }
            return Array(subscribers.values)
        }
        ending.forEach { $0.finish() }
    }

    /// How many iterators receive events now (the tests check that a left
    /// loop unsubscribes).
    var subscriberCount: Int {
        lock.withReadLock { subscribers.count }
    }
}
