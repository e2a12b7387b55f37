import Foundation
import GRDB
import HavenCore

/// What went wrong on the client, in words that say what to do next.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in every language `haven` speaks.
    public let words: Words
    /// What `--json` prints as the error's code; the same in every language.
    public let code: ErrorCode
    /// An error saying `words`, with `code` for `--json`.
    public init(_ words: Words, code: ErrorCode = .commandFailed) {
        self.words = words
        self.code = code
    }
    /// What went wrong, in the language of this task.
    public var message: String { words.text }
    /// The same as ``message``.
    public var description: String { message }

    /// The disk is full, said with what to do, when `error` is SQLite's "disk full"; nil for any
    /// other error. Each step is one transaction, so what was saved before is intact.
    public static func diskFull(from error: any Error) -> ClientError? {
        guard let error = error as? DatabaseError, error.resultCode == .SQLITE_FULL else { return nil }
        return ClientError(
            Words(
                "the disk is full: free some space, then run the command again; everything saved before is kept",
                korean: "디스크가 가득 찼습니다: 공간을 비운 뒤 명령을 다시 실행하세요. 그전에 저장된 것은 모두 남아 있습니다"))
    }

    /// "No replica at `path`", with the command that makes one.
    public static func noReplica(_ path: String) -> ClientError {
        ClientError(
            Words(
                "no replica at \(path): run 'haven init --server URL --token-file PATH' first",
                korean: "\(path)에 복제본이 없습니다: 먼저 'haven init --server URL --token-file PATH'를 실행하세요"))
    }

    static func noRecord(_ id: String) -> ClientError {
        ClientError(
            Words(
                "no record with id \(id) in this replica (see 'haven stories list' or 'haven resources list')",
                korean: "이 복제본에는 id가 \(id)인 기록이 없습니다 ('haven stories list'나 'haven resources list'를 보세요)"))
    }
}

/// An error answered by the server, with its HTTP status.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status of the answer.
    public let status: Int
    /// The error code and message from the answer's body.
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

    /// The server's answer quoted (its message is in English, the protocol's language) and what
    /// to do about it, in the person's language.
    public var description: String { words.text }

    /// ``description`` in every language.
    public var words: Words {
        let quoted = "\(detail.message) (\(detail.code))"
        let answer = Words("server answered \(status): \(quoted)", korean: "서버 응답 \(status): \(quoted)")
        guard let hint else { return answer }
        return answer + Words(" — ", korean: " — ") + hint
    }

    /// What the person can do about it, known by the status and the code.
    private var hint: Words? {
        switch status {
        case 401:
            Words(
                "the token is unknown, expired or revoked: ask an admin for a new one",
                korean: "서버가 모르는 토큰이거나, 만료되었거나, 취소된 토큰입니다: 관리자에게 새 토큰을 요청하세요")
        case 403:
            Words(
                "this token's role does not allow it: ask an admin for a token whose role may do this",
                korean: "이 토큰의 역할로는 할 수 없습니다: 이 일을 할 수 있는 역할의 토큰을 관리자에게 요청하세요")
        case 404, 405:
            Words(
                "check the server address this replica uses ('haven status')",
                korean: "이 복제본이 쓰는 서버 주소를 확인하세요 ('haven status')")
        case 426 where detail.code == .upgradeRequired:
            Words(
                "this version of haven is too old for the server: update haven, then sync again; unsent changes are kept",
                korean: "이 haven 버전은 서버에 비해 너무 오래되었습니다: haven을 업데이트한 뒤 다시 동기화하세요. 보내지 않은 변경은 그대로 남아 있습니다")
        case 410:
            Words("run 'haven sync' again to download everything", korean: "'haven sync'를 다시 실행해 모두 새로 내려받으세요")
        case 429 where detail.code == .tooManyAttempts:
            Words(
                "the server refused this token, and others from this address: check the token, or ask an admin for a new one",
                korean: "서버가 이 토큰과 이 주소에서 온 다른 토큰들을 거부했습니다: 토큰을 확인하거나, 관리자에게 새 토큰을 요청하세요")
        case 429:
            Words(
                "the server is throttling this device: wait a few minutes, then sync again",
                korean: "서버가 이 기기의 요청을 늦추고 있습니다: 몇 분 기다린 뒤 다시 동기화하세요")
        case 500...599:
            Words(
                "the server is in trouble: try again later; unsent changes are kept",
                korean: "서버에 문제가 있습니다: 나중에 다시 해 보세요. 보내지 않은 변경은 그대로 남아 있습니다")
        case 400..<500:
            Words(
                "this version of haven may not match the server's: update haven; unsent changes are kept",
                korean: "이 haven 버전이 서버와 맞지 않을 수 있습니다: haven을 업데이트하세요. 보내지 않은 변경은 그대로 남아 있습니다")
        default: nil
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
            Words(
                "the server's key changed: this replica pinned \(pinned) but the server showed \(found). Someone on the "
                    + "link may be posing as the server, so nothing was sent. Ask the server's admin whether they changed "
                    + "its key: if the server's admin confirms, run 'haven pin update'",
                korean: "서버의 키가 바뀌었습니다: 이 복제본에 고정된 키(\(pinned))와 서버가 보인 키(\(found))가 다릅니다. "
                    + "연결 중간에서 누군가 서버인 척할 수 있으므로 아무것도 보내지 않았습니다. 서버 관리자에게 키를 "
                    + "바꿨는지 물어보고, 관리자가 확인해 주면 'haven pin update'를 실행하세요"))
    }
}
