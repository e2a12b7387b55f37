import AsyncHTTPClient
import Foundation
import HavenCore
import NIOCore
import NIOPosix

/// How the sync engine treats an error from one request: try again, or stop and tell the person.
enum SyncFailure: Sendable {
    /// The link or the server may recover: retry after a backoff, at least `retryAfter` seconds.
    case transient(retryAfter: Double?)
    /// Trying again cannot help.
    case permanent

    init(_ error: any Error) {
        switch error {
        case let error as ServerError:
            self = error.isTransient ? .transient(retryAfter: error.retryAfter) : .permanent
        case is ServerAPI.UnreadableAnswer:
            // A cut-off or mangled body (a proxy, a captive portal): the next answer may be whole.
            self = .transient(retryAfter: nil)
        case is ClientError, is ProtocolViolation, is CancellationError, is EncodingError:
            self = .permanent
        case let error as HTTPClientError where Self.permanentHTTPClientErrors.contains(error):
            // A malformed server address: no retry fixes it.
            self = .permanent
        default:
            // Sockets, DNS, TLS resets and timeouts surface as many error types; all are the link's.
            self = .transient(retryAfter: nil)
        }
    }

    private static let permanentHTTPClientErrors: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme]
}

/// Why a sync stopped retrying: the budget was spent on one stall.
public struct RetryBudgetExhausted: Error, Sendable, CustomStringConvertible {
    /// What the engine was doing: "pushing changes", "pulling changes".
    public var step: String
    /// Attempts made in the stall, the first included.
    public var attempts: Int
    /// Seconds the stall lasted.
    public var seconds: Double
    /// A description of the last failure.
    public var lastError: String

    public var description: String {
        "gave up \(step) after \(attempts) attempt\(attempts == 1 ? "" : "s") over \(Int(seconds.rounded())) s "
            + "(last error: \(lastError)); everything received so far is saved and unsent changes are kept: "
            + "run 'haven sync' again when the link is better, or give it longer with --retry-for"
    }
}

/// A failure as a person reads it, without URLs, tokens or bodies.
func describeFailure(_ error: any Error) -> String {
    switch error {
    case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
        return "the request timed out"
    case let error as HTTPClientError where error == .connectTimeout:
        return "connecting to the server timed out"
    case let error as HTTPClientError where error == .remoteConnectionClosed:
        return "the connection was lost"
    case is NIOConnectionError, is ChannelError:
        return "cannot connect to the server"
    case let error as IOError where error.errnoCode == ECONNREFUSED:
        return "cannot connect to the server"
    case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
        return "the connection was lost"
    default:
        return describe(error)
    }
}
