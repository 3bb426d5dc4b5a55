import CLifeline

/// The waits of one client's ``LifelineClient/sendAcked(_:)-(String)``
/// calls, by message id, settled from the C callbacks on the loop thread.
///
/// The rule is `on_acked`'s own (lifeline.h): an ack for `id` says the server
/// has every message up to and including it but those `on_dropped_id`
/// reported (which comes first: their waits fail with its reason), so it
/// resumes every wait at or below it. The highest id acknowledged so far is kept, so that a wait that
/// starts after its ack came (the ack can beat `send`'s return) ends at once.
///
/// A wait fails when the client stops or fails for good before the ack:
/// state ``ConnectionState/closed`` (`STOPPED`), ``ConnectionState/error``
/// (the error the state change carries, `NOT_LIFELINE` say), or the client
/// closed (`STOPPED`). The message itself is the library's affair: with an
/// outbox file it stays there and goes out after the next start.
///
/// `@unchecked Sendable`: every mutable field is guarded by `lock`;
/// continuations are resumed after the lock is released.
final class AckWaiters: @unchecked Sendable {
    typealias Waiter = CheckedContinuation<UInt64, any Error>

    private let lock = ReadWriteLock()
    /// The highest id `on_acked` reported.
    private var highest: UInt64 = 0
    /// The waits, by serial: the id each waits for and its continuation.
    private var waiters: [Int: (id: UInt64, continuation: Waiter)] = [:]
    /// Serials cancelled before their continuation was registered.
    private var cancelled: Set<Int> = []
    private var nextSerial = 0
    /// While the client is stopped or failed: the error a new wait gets.
    private var ended: LifelineError?
    /// The ids `on_dropped_id` reported (the newest `dropsKept`), for a wait
    /// that starts after its message was dropped.
    private var droppedIDs: [UInt64: LifelineError] = [:]
    private var droppedOrder: [UInt64] = []
    private let dropsKept = 10_000

    /// Waits until `id` is acknowledged; returns it. Throws the error that
    /// ended the client, or `CancellationError` when the task is cancelled.
    func wait(for id: UInt64) async throws -> UInt64 {
        let serial = lock.withWriteLock {
            defer { nextSerial += 1 }
            return nextSerial
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                enum Now { case wait, acked, failed(any Error) }
                let now: Now = lock.withWriteLock {
                    if cancelled.remove(serial) != nil { return .failed(CancellationError()) }
                    if let error = droppedIDs[id] { return .failed(error) }
                    if id <= highest { return .acked }
                    if let ended { return .failed(ended) }
                    waiters[serial] = (id, continuation)
                    return .wait
                }
                switch now {
                case .wait: break
                case .acked: continuation.resume(returning: id)
                case let .failed(error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let waiter = lock.withWriteLock {
                let waiter = waiters.removeValue(forKey: serial)
                if waiter == nil { cancelled.insert(serial) }
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// `on_acked(id)`, loop thread.
    func acked(_ id: UInt64) {
        let due = lock.withWriteLock {
            highest = max(highest, id)
            let due = waiters.filter { $0.value.id <= id }
            for serial in due.keys { waiters.removeValue(forKey: serial) }
            return due.values.map { ($0.id, $0.continuation) }
        }
        for (id, continuation) in due { continuation.resume(returning: id) }
    }

    /// `on_dropped_id(id, reason)`, loop thread: that wait fails.
    func dropped(_ id: UInt64, _ error: LifelineError) {
        let due = lock.withWriteLock {
            droppedIDs[id] = error
            droppedOrder.append(id)
            if droppedOrder.count > dropsKept {
                droppedIDs.removeValue(forKey: droppedOrder.removeFirst())
            }
            let due = waiters.filter { $0.value.id == id }
            for serial in due.keys { waiters.removeValue(forKey: serial) }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume(throwing: error) }
    }

    /// `on_state`, loop thread: closed or error fails every wait.
    func state(_ new: ConnectionState, error: LifelineError?) {
        switch new {
        case .closed: end(LifelineError(code: LIFELINE_ERR_STOPPED.code))
        case .error: end(error ?? LifelineError(code: LIFELINE_ERR_STOPPED.code))
        default: lock.withWriteLock { ended = nil }
        }
    }

    /// The client is closed.
    func finish() {
        end(LifelineError(code: LIFELINE_ERR_STOPPED.code))
    }

    private func end(_ error: LifelineError) {
        let due = lock.withWriteLock {
            ended = error
            defer { waiters = [:] }
            return waiters.values.map(\.continuation)
        }
        for continuation in due { continuation.resume(throwing: error) }
    }
}
