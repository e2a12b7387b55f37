import Foundation
import HavenCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
        case is ClientError, is CancellationError, is EncodingError:
            self = .permanent
        case let error as URLError:
            self = Self.permanentURLErrors.contains(error.code) ? .permanent : .transient(retryAfter: nil)
        default:
            // Sockets, DNS, TLS resets and timeouts surface as many error types; all are the link's.
            self = .transient(retryAfter: nil)
        }
    }

    /// URL errors that no retry fixes: a malformed address, an untrusted certificate.
    private static let permanentURLErrors: Set<URLError.Code> = [
        .badURL, .unsupportedURL, .userAuthenticationRequired, .serverCertificateUntrusted,
        .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
        .clientCertificateRejected, .clientCertificateRequired,
    ]
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
    guard let error = error as? URLError else { return describe(error) }
    switch error.code {
    case .timedOut: return "the request timed out"
    case .networkConnectionLost: return "the connection was lost"
    case .cannotConnectToHost: return "cannot connect to the server"
    case .notConnectedToInternet: return "no network"
    case .cannotFindHost, .dnsLookupFailed: return "cannot find the server's host"
    case .secureConnectionFailed: return "the secure connection failed"
    default: return "network error \(error.code.rawValue)"
    }
}
