import Foundation

/// The lifeline.v1 reference server, `examples/node-reference/server.js`,
/// as a child process for the reliable-delivery tests. It echoes each
/// message through the session.
///
/// Node comes from `LIFELINE_NODE` (default `/usr/bin/node`), its `ws`
/// module from `NODE_PATH` (default `/usr/share/nodejs`, Debian's
/// `node-ws`). Started with `--port 0`: its first stdout line,
/// `{"event":"listening","port":N}`, gives the port. `stop()` (also run by
/// `deinit`) ends it with SIGKILL and waits for it.
final class NodeServerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is started in init and afterwards only
    // used through Process's own thread-safe calls; `stopped` is guarded by
    // `lock`.

    static var node: String {
        ProcessInfo.processInfo.environment["LIFELINE_NODE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/node"
    }

    /// server.js, found from this file's path (bindings/swift/Tests/LifelineTests/Support/).
    static var script: String {
        var repo = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 { repo.deleteLastPathComponent() }
        return repo.appendingPathComponent("examples/node-reference/server.js").path
    }

    /// True when there is a node and the script.
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: node) && FileManager.default.isReadableFile(atPath: script)
    }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    init(timeout: Duration = .seconds(10)) throws {
        process.executableURL = URL(fileURLWithPath: Self.node)
        process.arguments = [Self.script, "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        if environment["NODE_PATH"]?.isEmpty ?? true { environment["NODE_PATH"] = "/usr/share/nodejs" }
        process.environment = environment
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }

        // The first line is handed over; the thread then drains stdout to its end.
        let first = FirstLineBox()
        let reader = stdout.fileHandleForReading
        let thread = Thread {
            var buffer = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    first.set(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                }
            }
            first.set(nil)
        }
        try ServerProcess.runWithEmptySignalMask(process)
        thread.start()
        struct Listening: Decodable { let event: String; let port: Int }
        guard let line = first.wait(timeout: timeout),
              let listening = try? JSONDecoder().decode(Listening.self, from: Data(line.utf8)),
              listening.event == "listening", listening.port > 0 else {
            Self.killAndWait(process, exited)
            throw StartError(description: "server.js gave no listening line")
        }
        port = listening.port
    }

    deinit {
        stop()
    }

    /// `ws://127.0.0.1:PORT/ws`
    var url: URL { URL(string: "ws://127.0.0.1:\(port)/ws")! }

    /// Ends the server and waits for it. Idempotent.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        if first { Self.killAndWait(process, exited) }
    }

    private static func killAndWait(_ process: Process, _ exited: DispatchSemaphore) {
        guard process.processIdentifier != 0 else { return }
        kill(process.processIdentifier, SIGKILL)
        exited.wait()
        exited.signal() // leave it signalled for a second caller
    }
}

/// One line handed from a reader thread, once.
private final class FirstLineBox: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `condition`.
    private let condition = NSCondition()
    private var done = false
    private var line: String?

    func set(_ value: String?) {
        condition.withLock {
            if !done { line = value; done = true }
            condition.broadcast()
        }
    }

    func wait(timeout: Duration) -> String? {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        return condition.withLock {
            while !done {
                if !condition.wait(until: deadline) { break }
            }
            return line
        }
    }
}
