import Foundation
import HavenCore
import Synchronization

@testable import HavenClient

/// Faults the real server cannot produce, between the client and an ``InProcessServer``: a
/// link that drops a request or loses its answer, a 5xx, a 410 to a pull without a cursor, an
/// absurd `Retry-After` or `Content-Length`, an odd body. Every request it leaves alone gets
/// the real server's own answer.
///
/// The closure is asked about each request before it goes on; it may also look at the replica
/// or move a clock at that moment.
///
/// For example, lose the answer of every other request:
/// ```swift
/// let link = FaultyLink(over: RouterTransport(client)) { $0.number % 2 == 0 ? .dropAnswer : nil }
/// ```
final class FaultyLink: HTTPTransport {
    enum Fault: Sendable {
        /// The request never reaches the server.
        case dropRequest
        /// The server handles the request; its answer is lost on the way back.
        case dropAnswer
        /// This status and JSON error instead of the server's answer.
        case status(Int, ErrorCode, message: String)
        /// This status with `Retry-After: value` instead of the server's answer.
        case retryAfter(Int, value: String)
        /// The server's answer, changed before the client sees it.
        case rewrite(@Sendable (inout HTTPResponse) throws -> Void)
    }

    /// A request about to cross the link, and where it stands among the others (each from 1).
    struct Attempt: Sendable {
        var request: HTTPRequest
        /// Of all requests.
        var number: Int
        /// Of pulls, or of the other requests.
        var ofItsKind: Int
        var isPull: Bool { request.isPull }
    }

    /// The error a dropped request or answer throws.
    struct LinkDropped: Error {}

    private struct Counts {
        var requests = 0
        var pulls = 0
        var pushes = 0
        var drops = 0
    }

    private let server: any HTTPTransport
    private let fault: @Sendable (Attempt) throws -> Fault?
    private let counts = Mutex(Counts())

    /// A link to `server` that asks `fault` about every request.
    init(over server: any HTTPTransport, _ fault: @escaping @Sendable (Attempt) throws -> Fault?) {
        self.server = server
        self.fault = fault
    }

    /// Requests dropped, before or after the server saw them.
    var drops: Int { counts.withLock { $0.drops } }
    /// Requests sent over the link, whatever became of them.
    var requests: Int { counts.withLock { $0.requests } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let attempt = counts.withLock { counts in
            counts.requests += 1
            if request.isPull { counts.pulls += 1 } else { counts.pushes += 1 }
            return Attempt(
                request: request, number: counts.requests, ofItsKind: request.isPull ? counts.pulls : counts.pushes)
        }
        switch try fault(attempt) {
        case nil:
            return try await server.send(request)
        case .dropRequest:
            counts.withLock { $0.drops += 1 }
            throw LinkDropped()
        case .dropAnswer:
            _ = try await server.send(request)
            counts.withLock { $0.drops += 1 }
            throw LinkDropped()
        case .status(let status, let code, let message):
            return Self.error(status, code: code, message: message)
        case .retryAfter(let status, let value):
            // Not `too_many_attempts`: the server says that only to a token it refuses anyway.
            var response = Self.error(status, code: .unavailable, message: "wait")
            response.headers["retry-after"] = value
            return response
        case .rewrite(let rewrite):
            var response = try await server.send(request)
            try rewrite(&response)
            return response
        }
    }

    private static func error(_ status: Int, code: ErrorCode, message: String) -> HTTPResponse {
        HTTPResponse(
            status: status, body: try! JSONEncoder().encode(ErrorBody(ErrorDetail(code: code, message: message))))
    }
}

extension HTTPRequest {
    /// Whether this asks for a page or a stream of changes: not an account, key chain or media request.
    var isPull: Bool { method == "GET" && url.path.hasPrefix("/v1/changes") }
}
