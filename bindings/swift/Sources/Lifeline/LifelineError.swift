import CLifeline

/// An error from lifeline: the C error code with its name
/// (`lifeline_error_name`) and text (`lifeline_strerror`).
///
/// The text names configuration fields as this binding does, by their
/// ``Configuration`` property, like ``field``: C's "ping_timeout_ms must be
/// greater than zero and below ping_interval_ms" reads "pingTimeout must be
/// greater than zero and below pingInterval", and PING_TIMEOUT's "no pong
/// within pingTimeout".
///
/// ```swift
/// do { try client.reconnectNow() }
/// catch let error as LifelineError where error.name == "STATE" { ... }
/// ```
public enum LifelineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A lifeline function returned `code`, or an event reports it.
    case failed(code: Int32, name: String, message: String)

    /// The configuration was refused. `field` is the ``Configuration``
    /// property at fault (its Swift name, e.g. `"maxDelay"`), the name the
    /// message uses too.
    ///
    /// `code`, `name` and `message` are those of the C library (the message
    /// in Swift names, see ``LifelineError``), except for the
    /// two checks the binding makes before C sees the configuration: a number
    /// that does not fit the C field's type, and a string holding a NUL byte.
    /// Those carry `LIFELINE_ERR_INVALID_ARGUMENT` (or
    /// `LIFELINE_ERR_CONFIG_NEGATIVE` for a negative size) and a message that
    /// says what was wrong.
    case invalidConfiguration(field: String, code: Int32, name: String, message: String)

    /// The C error code (`lifeline_error`).
    public var code: Int32 {
        switch self {
        case let .failed(code, _, _), let .invalidConfiguration(_, code, _, _): code
        }
    }

    /// The error's C name without prefix, e.g. `"PING_TIMEOUT"`.
    public var name: String {
        switch self {
        case let .failed(_, name, _), let .invalidConfiguration(_, _, name, _): name
        }
    }

    /// One line for people.
    public var message: String {
        switch self {
        case let .failed(_, _, message), let .invalidConfiguration(_, _, _, message): message
        }
    }

    /// The ``Configuration`` property at fault, for a refused configuration.
    public var field: String? {
        if case let .invalidConfiguration(field, _, _, _) = self { return field }
        return nil
    }

    public var description: String {
        switch self {
        case let .failed(code, name, message):
            "lifeline error \(name) (\(code)): \(message)"
        case let .invalidConfiguration(field, code, name, message):
            "bad lifeline configuration: \(field): \(message) [\(name) (\(code))]"
        }
    }

    /// The error for a C return code, with the library's own name and text.
    init(code: Int32) {
        self = .failed(code: code,
                       name: String(cString: lifeline_error_name(code)),
                       message: Self.text(code))
    }

    /// A configuration error for `field` with the library's name and text.
    init(code: Int32, field: String) {
        self = .invalidConfiguration(field: field, code: code,
                                     name: String(cString: lifeline_error_name(code)),
                                     message: Self.text(code))
    }

    /// `lifeline_strerror(code)` with every `lifeline_config` field it names
    /// spelt as its ``Configuration`` property (`ping_timeout_ms` is
    /// `pingTimeout`), and the two C enums a field holds as their Swift types.
    static func text(_ code: Int32) -> String {
        swiftNames(String(cString: lifeline_strerror(code)))
    }

    /// `text` with each C identifier that names a config field (or one of
    /// its enums), as a whole word, replaced by its Swift name.
    static func swiftNames(_ text: String) -> String {
        var out = "", word = ""
        func endWord() {
            out += Configuration.propertyNames[word] ?? swiftTypeNames[word] ?? word
            word = ""
        }
        for ch in text {
            if ch.isASCII && (ch.isLetter || ch.isNumber || ch == "_") {
                word.append(ch)
            } else {
                endWord()
                out.append(ch)
            }
        }
        endWord()
        return out
    }

    /// The C enums the configuration's messages name, as their Swift types.
    static let swiftTypeNames = ["lifeline_jitter_mode": "JitterMode", "lifeline_queue_policy": "QueuePolicy"]

    /// nil for `LIFELINE_ERR_OK`, else the error.
    static func ifFailed(_ code: Int32) -> LifelineError? {
        code == LifelineError.ok ? nil : LifelineError(code: code)
    }

    /// Throws the error for a C return code other than `LIFELINE_ERR_OK`.
    static func check(_ code: Int32) throws(LifelineError) {
        if code != LifelineError.ok { throw LifelineError(code: code) }
    }

    static var ok: Int32 { LIFELINE_ERR_OK.code }
}

extension lifeline_error {
    /// The value as the C functions return it (`int`).
    var code: Int32 { Int32(bitPattern: rawValue) }
}
