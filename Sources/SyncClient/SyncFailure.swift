import AsyncHTTPClient
import Foundation
import HavenCore
import NIOCore
import NIOPosix
import NIOSSL

/// How the sync engine treats an error from one request: try again, or stop and tell the person.
enum SyncFailure: Sendable, Equatable {
    /// The server answered that it may recover: retry after a backoff, at least `retryAfter` seconds.
    case transient(retryAfter: Double?)
    /// No answer came (the link dropped, timed out, or cut a stream short): probe again soon
    /// (``RetryPolicy``, rule 2a).
    case link
    /// Trying again cannot help.
    case permanent

    init(_ error: any Error) {
        switch error {
        case let error as ServerError:
            self = error.isTransient ? .transient(retryAfter: error.retryAfter) : .permanent
        case is ServerAPI.UnreadableAnswer:
            // A cut-off or mangled body (a proxy, a captive portal): the next answer may be whole.
            self = .transient(retryAfter: nil)
        case is StreamCut:
            self = .link
        case is ClientError, is ProtocolViolation, is CancellationError, is EncodingError:
            self = .permanent
        case let error as HTTPClientError where Self.permanentHTTPClientErrors.contains(error):
            // A malformed server address: no retry fixes it.
            self = .permanent
        default:
            // Sockets, DNS, TLS resets and timeouts surface as many error types; all are the link's.
            self = .link
        }
    }

    private static let permanentHTTPClientErrors: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme]
}

extension SyncStateMachine.Failure {
    /// What `error` from a request means to the sync's rules: the statuses they treat apart, or
    /// else how ``SyncFailure`` classes it.
    init(_ error: any Error) {
        switch error {
        case let error as ServerError where error.status == 413: self = .tooLarge
        case let error as ServerError where error.status == 410: self = .cursorGone
        case let error as ServerError where error.status == 404: self = .notFound
        case is StreamingUnsupported: self = .notFound
        default:
            switch SyncFailure(error) {
            case .transient(let retryAfter): self = .transient(retryAfter: retryAfter)
            case .link: self = .link
            case .permanent: self = .permanent
            }
        }
    }
}

/// Why a sync stopped retrying: the budget was spent on one stall.
public struct RetryBudgetExhausted: Error, Sendable, CustomStringConvertible {
    /// What the engine was doing: "pushing changes" (변경 보내기), "pulling changes" (변경 받기);
    /// the Korean ends in a vowel, as the words' 를 needs.
    public var step: Words
    /// Attempts made in the stall, the first included.
    public var attempts: Int
    /// Seconds the stall lasted.
    public var seconds: Double
    /// A description of the last failure.
    public var lastError: Words

    /// What happened, in the person's language.
    public var description: String { words.text }

    /// ``description`` in every language.
    public var words: Words {
        let seconds = Int(seconds.rounded())
        return Words(
            "gave up \(step.english) after \(attempts) attempt\(attempts == 1 ? "" : "s") over \(seconds) s "
                + "(last error: \(lastError.english)); everything received so far is saved and unsent changes are kept: "
                + "run 'haven sync' again when the link is better, or give it longer with --retry-for",
            korean: "\(step.korean)를 \(seconds)초 동안 \(attempts)번 시도했지만 되지 않아 멈췄습니다 "
                + "(마지막 오류: \(lastError.korean)). 지금까지 받은 것은 저장되었고 보내지 않은 변경도 그대로 있습니다: "
                + "연결이 나아지면 'haven sync'를 다시 실행하거나, --retry-for로 시간을 더 주세요")
    }
}

/// A failure as a person reads it, naming `server`'s address when given, without tokens or bodies:
/// a timeout, a refused connection, a changed pinned key, a server's refusal in its own words.
///
/// For example:
/// ```swift
/// do { _ = try await engine.sync() } catch { statusLine = describeFailure(error).text }
/// ```
public func describeFailure(_ error: any Error, server: URL? = nil) -> Words {
    let address = server.map(\.absoluteString)
    switch error {
    case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
        return Words(
            "the request to \(address ?? "the server") timed out",
            korean: "\(address ?? "서버")에 보낸 요청의 시간이 초과되었습니다")
    case let error as HTTPClientError where error == .connectTimeout:
        return Words(
            "connecting to \(address ?? "the server") timed out (check the address, and that this device has a link)",
            korean: "\(address ?? "서버")에 연결하는 시간이 초과되었습니다 (주소를 확인하고, 이 기기가 네트워크에 연결되어 있는지 확인하세요)")
    case let error as HTTPClientError where error == .remoteConnectionClosed:
        return lostText(address)
    case let error as NIOConnectionError:
        if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
            return Words(
                "cannot find the host \(error.host) (the name did not resolve: check the address, or the link)",
                korean: "호스트를 찾을 수 없습니다: \(error.host) (이름을 주소로 바꾸지 못했습니다: 주소나 네트워크 연결을 확인하세요)")
        }
        if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
            return refusedText(address)
        }
        return cannotConnectText(address)
    case let error as IOError where error.errnoCode == ECONNREFUSED:
        return refusedText(address)
    case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
        return lostText(address)
    case is ChannelError:
        return cannotConnectText(address)
    case is NIOSSLError, is BoringSSLError:
        return notHTTPSText(server)
    default:
        let described = describe(error)
        return Words(verbatim: described)
    }
}

/// The TLS handshake failed: most often a plain http server behind an https:// address.
func notHTTPSText(_ server: URL?) -> Words {
    guard let server, var components = URLComponents(url: server, resolvingAgainstBaseURL: false) else {
        return Words(
            "the server does not speak https (the TLS handshake failed)",
            korean: "서버가 https를 쓰지 않습니다 (TLS 핸드셰이크가 실패했습니다)")
    }
    components.scheme = "http"
    components.path = ""
    let plain = components.string ?? "http://…"
    return Words(
        "\(server.absoluteString) does not speak https (the TLS handshake failed): if it is a plain http server, "
            + "its address is \(plain) (plain http only on this machine, or with --insecure-http); "
            + "otherwise ask its admin for its https:// address",
        korean: "\(server.absoluteString): https를 쓰지 않는 서버입니다 (TLS 핸드셰이크가 실패했습니다). 일반 http 서버라면 "
            + "주소는 \(plain)입니다 (일반 http는 이 기기 안에서만, 또는 --insecure-http와 함께 쓸 수 있습니다). "
            + "그렇지 않다면 서버 관리자에게 https:// 주소를 물어보세요")
}

/// Nothing listens at the address.
private func refusedText(_ address: String?) -> Words {
    Words(
        "cannot connect to \(address ?? "the server"): connection refused (nothing listens there: is haven-server running, "
            + "and is the port right?)",
        korean: "\(address ?? "서버")에 연결할 수 없습니다: 연결이 거부되었습니다 (그 주소에서 기다리는 서버가 없습니다: "
            + "haven-server가 실행 중인지, 포트가 맞는지 확인하세요)")
}

private func cannotConnectText(_ address: String?) -> Words {
    Words("cannot connect to \(address ?? "the server")", korean: "\(address ?? "서버")에 연결할 수 없습니다")
}

private func lostText(_ address: String?) -> Words {
    Words(
        "the connection to \(address ?? "the server") was lost",
        korean: "연결이 끊어졌습니다: \(address ?? "서버")")
}
