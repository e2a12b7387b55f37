import HavenClient
import Synchronization

/// A transport that drops some requests and passes the others to a server: the n-th only, or
/// every n-th. A drop happens before the server sees the request, or after it has answered
/// (the answer is lost on the way back, so the server did the work).
final class FlakyTransport: HTTPTransport {
    enum Drop: Sendable {
        /// The request never reaches the server.
        case request
        /// The server handles the request; its answer is lost.
        case answer
    }

    let server: FakeServer
    private let shouldDrop: @Sendable (Int) -> Bool
    private let drop: Drop
    private let count = Mutex(0)
    private let dropped = Mutex(0)

    /// Drops only the `failing`-th request (from 1).
    init(failing: Int, drop: Drop = .request, then server: FakeServer) {
        self.shouldDrop = { $0 == failing }
        self.drop = drop
        self.server = server
    }

    /// Drops every `every`-th request (from 1): with 2, the 2nd, 4th, 6th…
    init(failingEvery every: Int, drop: Drop, then server: FakeServer) {
        self.shouldDrop = { $0 % every == 0 }
        self.drop = drop
        self.server = server
    }

    /// How many requests were dropped.
    var drops: Int { dropped.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let number = count.withLock { count in
            count += 1
            return count
        }
        guard shouldDrop(number) else { return try await server.send(request) }
        dropped.withLock { $0 += 1 }
        if drop == .answer { _ = try await server.send(request) }
        throw FakeServer.LinkDropped()
    }
}
