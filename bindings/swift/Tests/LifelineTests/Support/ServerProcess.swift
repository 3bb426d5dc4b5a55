import Foundation
import Testing

/// A `lifeline-server` child process on loopback, for the live tests.
///
/// The binary comes from `LIFELINE_SERVER_BIN`. The server is started with
/// `--port 0` (or the port of a previous server, to restart "the same"
/// server) and its SQLite file in a temporary folder; its first stdout line,
/// `{"event":"listening","port":N}`, gives the port. `stop()` (also run by
/// `deinit`) ends it with SIGTERM, then SIGKILL if it lingers, and waits for it.
final class ServerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is started in init and afterwards only
    // used through Process's own thread-safe terminate/isRunning; `stopped`
    // is guarded by `lock`.

    static let binaryVariable = "LIFELINE_SERVER_BIN"

    /// The server binary, or nil when the environment does not name one.
    static var binary: String? {
        guard let path = ProcessInfo.processInfo.environment[binaryVariable], !path.isEmpty else { return nil }
        return path
    }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    let directory: URL
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    /// Starts the server and waits (at most `timeout`) for its listening line.
    /// - Parameters:
    ///   - port: 0 for a free port, or the port of a server being restarted.
    ///   - directory: where the database and the log go (a fresh temporary
    ///     folder when nil; reuse the first server's folder on a restart).
    init(port: Int = 0, directory: URL? = nil, timeout: Duration = .seconds(10)) throws {
        guard let binary = Self.binary else {
            throw StartError(description: "\(Self.binaryVariable) is not set")
        }
        let dir = directory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("lifeline-swift-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.directory = dir
        let log = dir.appendingPathComponent("server.log")
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let logHandle = try FileHandle(forWritingTo: log)
        logHandle.seekToEndOfFile()
        defer { try? logHandle.close() }

        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", String(port), "--db", dir.appendingPathComponent("server.db").path]
        process.currentDirectoryURL = dir
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }

        // The first line is read on a thread of its own, which then drains
        // stdout until EOF so the server never blocks on a full pipe.
        let firstLine = FirstLine()
        let reader = stdout.fileHandleForReading
        let thread = Thread {
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                if !firstLine.isSet {
                    buffer.append(chunk)
                    if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        firstLine.set(String(decoding: buffer[..<newline], as: UTF8.self))
                        buffer = Data()
                    }
                }
            }
            firstLine.set(nil) // EOF: wakes a waiter if no line came
        }

        try Self.runWithEmptySignalMask(process)
        thread.start()

        let line = firstLine.wait(timeout: timeout)
        guard let line, let parsed = Self.listeningPort(line) else {
            Self.terminateAndWait(process, exited)
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw StartError(description: "lifeline-server gave no listening line (got \(line ?? "nothing")); log:\n\(text)")
        }
        self.port = parsed
    }

    deinit {
        stop()
    }

    /// `ws://127.0.0.1:PORT/ws?store=S&user=U`
    func url(store: String = "swift", user: String = "tests") -> URL {
        URL(string: "ws://127.0.0.1:\(port)/ws?store=\(store)&user=\(user)")!
    }

    /// Ends the server (SIGTERM, SIGKILL after 5 s) and waits for it. Idempotent.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        if first { Self.terminateAndWait(process, exited) }
    }

    /// Starts a new server on the same port and folder: the restart the
    /// client sees as "the server came back".
    func restarted() throws -> ServerProcess {
        stop()
        return try ServerProcess(port: port, directory: directory)
    }

    /// Removes the temporary folder (call once the last server on it stopped).
    func removeDirectory() {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func terminateAndWait(_ process: Process, _ exited: DispatchSemaphore) {
        guard process.processIdentifier != 0 else { return }
        if process.isRunning { process.terminate() }
        if exited.wait(timeout: .now() + 5) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        exited.signal() // leave it signalled for a second caller
    }

    /// Starts `process` from a thread with no signal blocked.
    ///
    /// Foundation's Process on Linux spawns the child with the calling
    /// thread's signal mask (swift-corelibs-foundation issue #4772), and the
    /// test's threads are Dispatch workers that block SIGTERM and most other
    /// signals: the server would start deaf to SIGTERM. (`PeerProcess`
    /// starts peer.py through it too.)
    static func runWithEmptySignalMask(_ process: Process) throws {
        final class Outcome: @unchecked Sendable {
            // @unchecked Sendable: written by the thread before `done`
            // is signalled, read only after waiting on it.
            var error: (any Error)?
            let done = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        let thread = Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            do { try process.run() } catch { outcome.error = error }
            outcome.done.signal()
        }
        thread.start()
        outcome.done.wait()
        if let error = outcome.error { throw error }
    }

    private static func listeningPort(_ line: String) -> Int? {
        struct Listening: Decodable { let event: String; let port: Int }
        guard let l = try? JSONDecoder().decode(Listening.self, from: Data(line.utf8)),
              l.event == "listening", l.port > 0 else { return nil }
        return l.port
    }
}

/// The server's first stdout line, handed from the reader thread.
private final class FirstLine: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var done = false
    private var line: String?

    var isSet: Bool { condition.withLock { done } }

    func set(_ value: String?) {
        condition.withLock {
            if !done { line = value; done = true }
            condition.broadcast()
        }
    }

    func wait(timeout: Duration) -> String? {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds)
            + Double(timeout.components.attoseconds) / 1e18)
        return condition.withLock {
            while !done {
                if !condition.wait(until: deadline) { break }
            }
            return line
        }
    }
}

/// Skips a live test when no server binary is configured, instead of failing
/// with a confusing error.
let serverAvailable = ServerProcess.binary != nil
