#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread read-write lock: many readers at once, or one writer.
///
/// `@unchecked Sendable`: the pthread_rwlock_t is allocated once, never moved,
/// and pthread locks are made to be shared between threads.
final class ReadWriteLock: @unchecked Sendable {
    private let rwlock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        rwlock = .allocate(capacity: 1)
        rwlock.initialize(to: pthread_rwlock_t())
        let rc = pthread_rwlock_init(rwlock, nil)
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(rwlock)
        rwlock.deinitialize(count: 1)
        rwlock.deallocate()
    }

    func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(rwlock)
        defer { pthread_rwlock_unlock(rwlock) }
        return try body()
    }

    func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(rwlock)
        defer { pthread_rwlock_unlock(rwlock) }
        return try body()
    }
}

/// A Bool that any thread may read and write.
///
/// `@unchecked Sendable`: `value` is only touched under `lock`.
final class LockedFlag: @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var value: Bool

    init(_ value: Bool) { self.value = value }

    func get() -> Bool { lock.withReadLock { value } }
    func set(_ newValue: Bool) { lock.withWriteLock { value = newValue } }
}
