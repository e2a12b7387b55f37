import AsyncHTTPClient
import Foundation
import HavenCore
import NIOCore
import NIOPosix
import NIOSSL

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

/// A failure as a person reads it, naming `server`'s address when given, without tokens or bodies.
func describeFailure(_ error: any Error, server: URL? = nil) -> String {
    let address = server.map(\.absoluteString) ?? "the server"
    switch error {
    case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
        return "the request to \(address) timed out"
    case let error as HTTPClientError where error == .connectTimeout:
        return "connecting to \(address) timed out (check the address, and that this device has a link)"
    case let error as HTTPClientError where error == .remoteConnectionClosed:
        return "the connection to \(address) was lost"
    case let error as NIOConnectionError:
        if error.connectionErrors.isEmpty, error.dnsAError != nil || error.dnsAAAAError != nil {
            return "cannot find the host \(error.host) (the name did not resolve: check the address, or the link)"
        }
        if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
            return refusedText(address)
        }
        return "cannot connect to \(address)"
    case let error as IOError where error.errnoCode == ECONNREFUSED:
        return refusedText(address)
    case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
        return "the connection to \(address) was lost"
    case is ChannelError:
        return "cannot connect to \(address)"
    case is NIOSSLError, is BoringSSLError:
        return notHTTPSText(server)
    default:
        return describe(error)
    }
}

/// The TLS handshake failed: most often a plain http server behind an https:// address.
func notHTTPSText(_ server: URL?) -> String {
    guard let server, var components = URLComponents(url: server, resolvingAgainstBaseURL: false) else {
        return "the server does not speak https (the TLS handshake failed)"
    }
    components.scheme = "http"
    components.path = ""
    return "\(server.absoluteString) does not speak https (the TLS handshake failed): if it is a plain http server, "
        + "its address is \(components.string ?? "http://…") (plain http only on this machine, or with --insecure-http); "
        + "otherwise ask its admin for its https:// address"
}

/// Nothing listens at the address.
private func refusedText(_ address: String) -> String {
    "cannot connect to \(address): connection refused (nothing listens there: is haven-server running, and is the port right?)"
}
