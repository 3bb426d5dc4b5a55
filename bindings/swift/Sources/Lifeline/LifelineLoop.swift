import CLifeline

/// A service thread with one libwebsockets context, shared by any number of
/// clients (`lifeline_loop`). Set it as ``Configuration/loop``; each client
/// keeps it alive, and it is freed when the last client and the last
/// reference to it are gone.
///
/// `@unchecked Sendable`: `handle` never changes, and the C library allows
/// every lifeline_loop function from any thread, the loop's own included.
public final class LifelineLoop: @unchecked Sendable {
    let handle: OpaquePointer

    /// Starts the service thread.
    public init() throws(LifelineError) {
        var out: OpaquePointer?
        try LifelineError.check(lifeline_loop_new(&out))
        guard let out else { throw LifelineError(code: LIFELINE_ERR_NO_MEMORY.code) }
        handle = out
    }

    deinit {
        // Every client on the loop holds a reference to it and frees its C
        // client before letting go, so none is left on it here.
        let rc = lifeline_loop_free(handle)
        assert(rc == LifelineError.ok, "lifeline_loop_free: \(LifelineError(code: rc))")
    }
}
