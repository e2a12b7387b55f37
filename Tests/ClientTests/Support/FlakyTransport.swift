import HavenClient

/// A transport whose n-th request drops, passing every other one to a server.
actor FlakyTransport: HTTPTransport {
    let server: FakeServer
    private let failing: Int
    private var count = 0

    init(failing: Int, then server: FakeServer) {
        self.failing = failing
        self.server = server
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        count += 1
        if count == failing { throw FakeServer.LinkDropped() }
        return try await server.send(request)
    }
}
