import Foundation
import Testing

/// `tests/integration/peer.py` as a child process, in one of its raw modes,
/// for the shutdown tests (the C tests of `tests/integration/test_shutdown.c`
/// use it the same way).
///
/// The script comes from `LIFELINE_PEER`, by default the repository's own;
/// it runs on `/usr/bin/python3`, as the C tests run it, and needs the
/// `websockets` library. It starts with `--port 0`; its stdout is one JSON
/// fact a line, the first `{"event":"listening","port":N}`, then what the
/// client did: `message` (`text`), `close_received` (`code`), `eof`...
/// The peer exits when its stdin closes: `stop()` (also run by `deinit`)
/// closes it and waits, with SIGKILL if it lingers.
final class PeerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is started in init and afterwards only
    // used through Process's own thread-safe calls; `stopped` is guarded by
    // `lock`; the facts are in a `PeerFacts`, which guards its own.

    static let scriptVariable = "LIFELINE_PEER"
    static let python = "/usr/bin/python3"

    /// The peer script: `LIFELINE_PEER`, or the repository's, found from
    /// this file's path (bindings/swift/Tests/LifelineTests/Support/).
    static var script: String {
        if let path = ProcessInfo.processInfo.environment[scriptVariable], !path.isEmpty {
            return path
        }
        var repo = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 { repo.deleteLastPathComponent() }
        return repo.appendingPathComponent("tests/integration/peer.py").path
    }

    /// True when there is a peer script and the Python to run it.
    static var available: Bool {
        FileManager.default.isReadableFile(atPath: script)
            && FileManager.default.isExecutableFile(atPath: python)
    }

    /// One line of the peer's stdout (the fields the tests read).
    struct Fact: Decodable, Sendable, CustomStringConvertible {
        let event: String
        var port: Int?
        var text: String?
        var hex: String?
        var code: Int?

        var description: String {
            "\(event)" + [port.map { " port \($0)" }, text.map { " \(shown($0))" },
                          hex.map { " hex \(shown($0))" }, code.map { " code \($0)" }]
                .compactMap { $0 }.joined()
        }
    }

    /// What the client sent, as the peer saw it.
    enum Frame: Equatable, Sendable, CustomStringConvertible {
        /// A message: its text (or hex, for binary), through ``shown(_:)``.
        case message(String)
        /// A close frame and its code (nil: an empty close).
        case close(Int?)

        var description: String {
            switch self {
            case let .message(text): "message \(text)"
            case let .close(code): "close \(code.map(String.init) ?? "-")"
            }
        }
    }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private let process = Process()
    private let stdin = Pipe()
    private let exited = DispatchSemaphore(value: 0)
    private let facts = PeerFacts()
    private let lock = NSLock()
    private var stopped = false

    /// Starts the peer in `mode` and waits (at most `timeout`) for its
    /// listening line.
    init(mode: String, timeout: Duration = .seconds(10)) throws {
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script, "--mode", mode, "--port", "0"]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }

        // Each pipe is read to its end on a thread of its own, so the peer
        // never blocks on a full pipe.
        let facts = self.facts
        let out = Thread {
            Self.readLines(stdout.fileHandleForReading) { line in
                if let fact = try? JSONDecoder().decode(Fact.self, from: Data(line.utf8)) {
                    facts.append(fact)
                }
            }
            facts.finish()
        }
        let err = Thread {
            Self.readLines(stderr.fileHandleForReading) { facts.appendStderr($0) }
        }

        try ServerProcess.runWithEmptySignalMask(process)
        out.start()
        err.start()

        do {
            let listening = try facts.wait(for: "listening line", within: timeout) { $0.event == "listening" }
            guard let port = listening.port, port > 0 else {
                throw StartError(description: "peer.py: a listening line without a port: \(listening)")
            }
            self.port = port
        } catch {
            Self.endAndWait(process, stdin, exited)
            throw error
        }
    }

    deinit {
        stop()
    }

    /// `ws://127.0.0.1:PORT/ws`
    var url: URL { URL(string: "ws://127.0.0.1:\(port)/ws")! }

    /// Waits for the first fact with this event (at most `timeout`).
    @discardableResult
    func wait(for event: String, within timeout: Duration = .seconds(5)) throws -> Fact {
        try facts.wait(for: #""\#(event)""#, within: timeout) { $0.event == event }
    }

    /// The messages and close frames reported so far, in order.
    var frames: [Frame] {
        facts.all.compactMap { fact in
            switch fact.event {
            case "message": .message(shown(fact.text ?? fact.hex ?? ""))
            case "close_received": .close(fact.code)
            default: nil
            }
        }
    }

    /// Ends the peer (its stdin closes; SIGKILL after 5 s) and waits for
    /// it. Idempotent.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        if first { Self.endAndWait(process, stdin, exited) }
    }

    private static func endAndWait(_ process: Process, _ stdin: Pipe, _ exited: DispatchSemaphore) {
        try? stdin.fileHandleForWriting.close()
        guard process.processIdentifier != 0 else { return }
        if exited.wait(timeout: .now() + 5) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        exited.signal() // leave it signalled for a second caller
    }

    /// Calls `body` with each line read from `handle`, until its end.
    private static func readLines(_ handle: FileHandle, _ body: (String) -> Void) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                body(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer = Data(buffer[buffer.index(after: newline)...])
            }
        }
        if !buffer.isEmpty { body(String(decoding: buffer, as: UTF8.self)) }
    }
}

/// A text cut short enough for a failed expectation to stay readable.
func shown(_ text: String) -> String {
    text.count <= 40 ? text : "\(text.prefix(20))...(\(text.count) chars)"
}

/// The peer's facts, handed from its reader threads to the test.
private final class PeerFacts: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var facts: [PeerProcess.Fact] = []
    private var stderr: [String] = []
    private var ended = false

    var all: [PeerProcess.Fact] { condition.withLock { facts } }

    func append(_ fact: PeerProcess.Fact) {
        condition.withLock {
            facts.append(fact)
            condition.broadcast()
        }
    }

    func appendStderr(_ line: String) {
        condition.withLock { stderr.append(line) }
    }

    /// The peer's stdout ended: no fact will come any more.
    func finish() {
        condition.withLock {
            ended = true
            condition.broadcast()
        }
    }

    /// The first fact that matches, waiting at most `timeout` for it.
    func wait(for what: String, within timeout: Duration,
              _ match: (PeerProcess.Fact) -> Bool) throws -> PeerProcess.Fact {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds)
            + Double(timeout.components.attoseconds) / 1e18)
        return try condition.withLock {
            while true {
                if let fact = facts.first(where: match) { return fact }
                if ended || !condition.wait(until: deadline) {
                    if let fact = facts.first(where: match) { return fact }
                    let seen = facts.map { "  \($0)" }.joined(separator: "\n")
                    throw PeerProcess.StartError(description:
                        "peer.py: no \(what)\(ended ? " (it exited)" : ""); it reported:\n\(seen)\n"
                        + "stderr:\n\(stderr.suffix(30).joined(separator: "\n"))")
                }
            }
        }
    }
}
