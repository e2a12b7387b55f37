import Foundation
import HavenCore

/// What went wrong on the client, in words that say what to do next.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// What `--json` prints as the error's code.
    public let code: ErrorCode
    public init(_ message: String, code: ErrorCode = .commandFailed) {
        self.message = message
        self.code = code
    }
    public var description: String { message }

    static func noReplica(_ path: String) -> ClientError {
        ClientError("no replica at \(path): run 'haven init --server URL --token-file PATH' first")
    }

    static func noRecord(_ id: String) -> ClientError {
        ClientError("no record with id \(id) in this replica (see 'haven stories list' or 'haven resources list')")
    }
}

/// An error answered by the server, with its HTTP status.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let detail: ErrorDetail
    /// Seconds the server asked the client to wait (`Retry-After`), if it did.
    public var retryAfter: Double?
    /// Whether the body was a Haven error (`{"error":{"code":…}}`): a proxy, a portal or another
    /// HTTP service answers otherwise.
    public var isHavenError = true

    /// An error answer with its decoded body and `Retry-After`.
    public init(status: Int, detail: ErrorDetail, retryAfter: Double? = nil) {
        self.status = status
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// Whether trying again later may succeed: timeouts, throttling and server faults.
    public var isTransient: Bool {
        // The server answers `too_many_attempts` only to a token it refuses anyway (a valid one
        // always passes its throttle): waiting would not help, a new token would.
        guard detail.code != .tooManyAttempts else { return false }
        return status == 408 || status == 429 || (500...599).contains(status)
    }

    public var description: String {
        "server answered \(status): \(detail.message) (\(detail.code))\(hint)"
    }

    /// What the person can do about it.
    private var hint: String {
        switch status {
        case 401: " — the token is unknown, expired or revoked: ask an admin for a new one"
        case 403: " — this token's role does not allow it: ask an admin for a token whose role may do this"
        case 404, 405: " — check the server address this replica uses ('haven status')"
        case 410: " — run 'haven sync' again to download everything"
        case 429 where detail.code == .tooManyAttempts:
            " — the server refused this token, and others from this address: check the token, or ask an admin for a new one"
        case 429: " — the server is throttling this device: wait a few minutes, then sync again"
        case 500...599: " — the server is in trouble: try again later; unsent changes are kept"
        case 400..<500: " — this version of haven may not match the server's: update haven; unsent changes are kept"
        default: ""
        }
    }

    /// Parses a `Retry-After` value: whole seconds, or an HTTP date (RFC 9110 §10.2.3), held
    /// to 0…``RetryPolicy/maxRetryAfter`` (it is the server's word, not the device's).
    static func retryAfter(_ value: String?, now: Date = Date()) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let seconds: Double
        if let number = Double(value) {
            guard !number.isNaN else { return nil }
            seconds = number
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            guard let date = formatter.date(from: value) else { return nil }
            seconds = date.timeIntervalSince(now)
        }
        return min(max(0, seconds), RetryPolicy.maxRetryAfter)
    }
}

extension ClientError {
    /// The server showed a key other than the pinned one (Link/PinnedTransport.swift).
    static func keyChanged(pinned: PinnedKey, found: PinnedKey) -> ClientError {
        ClientError(
            "the server's key changed: this replica pinned \(pinned) but the server showed \(found). Someone on the "
                + "link may be posing as the server, so nothing was sent. Ask the server's admin whether they changed "
                + "its key: if the server's admin confirms, run 'haven pin update'")
    }
}
