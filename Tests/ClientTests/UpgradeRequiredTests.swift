import Foundation
import HavenCore
import Synchronization
import Testing
import TestSupport

@testable import HavenClient

/// The protocol version on the wire (``ProtocolVersion``): every request says which version it
/// speaks, and a server that no longer speaks it makes the client say "update haven", keeping
/// what is unsent.
@Suite(.temporaryDirectory)
struct UpgradeRequiredTests {
    @Test(arguments: [false, true])
    func everyRequestStatesTheProtocolVersion(streams: Bool) async throws {
        // Given a replica with an unsent story, and the real server in-process
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        _ = try replica.add(.story, values: Fixtures.story("Shelter"))
        try await server.run { client in
            let router = RouterTransport(client)

            // When it syncs (a push, then pulls paged or streamed)
            _ = try await makeEngine(replica, router, streams: streams).sync()

            // Then every request said which version it speaks, and every answer the server's
            let exchanges = router.exchanges
            #expect(Set(exchanges.map(\.request.method)) == ["POST", "GET"])
            for exchange in exchanges {
                #expect(exchange.request.headers[ProtocolVersion.headerName] == String(ProtocolVersion.current))
                #expect(exchange.response.header(ProtocolVersion.headerName) == String(ProtocolVersion.current))
            }
        }
    }

    @Test func aServerOlderThanThisClientIsSpokenToInItsVersion() async throws {
        // Given a server of protocol 1, which refuses a newer version as a bad header and states its own
        let old = OldServer()
        let api = ServerAPI(server: URL(string: "http://old.example")!, token: "hvn_t", transport: old)

        // When the client asks twice
        _ = try await api.me()
        _ = try await api.me()

        // Then its first request was sent again in version 1, and the next went in version 1 at once
        #expect(old.versions.withLock { $0 } == ["2", "1", "1"])
    }

    @Test func aRefusalOfAVersionThisClientCannotSpeakStands() {
        // A 400 that is not about the header, or names a version below what this client speaks, is no invitation
        func answer(_ code: ErrorCode, version: String) -> HTTPResponse {
            HTTPResponse(
                status: 400, headers: ["haven-protocol": version],
                body: Data(#"{"error":{"code":"\#(code.rawValue)","message":"m"}}"#.utf8))
        }
        #expect(ProtocolNegotiation.olderVersion(in: answer(.invalidHeader, version: "1"), than: 2) == 1)
        #expect(ProtocolNegotiation.olderVersion(in: answer(.invalidHeader, version: "0"), than: 2) == nil)
        #expect(ProtocolNegotiation.olderVersion(in: answer(.invalidHeader, version: "2"), than: 2) == nil)
        #expect(ProtocolNegotiation.olderVersion(in: answer(.invalidLimit, version: "1"), than: 2) == nil)
    }

    /// A server of protocol version 1 answering `GET /v1/me`.
    private final class OldServer: HTTPTransport {
        let versions = Mutex<[String]>([])

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let version = request.headers[ProtocolVersion.headerName] ?? "1"
            versions.withLock { $0.append(version) }
            guard version == "1" else {
                return HTTPResponse(
                    status: 400, headers: ["haven-protocol": "1", "content-type": "application/json"],
                    body: Data(
                        #"{"error":{"code":"invalid_header","message":"Haven-Protocol: 2 is newer than this server"}}"#.utf8))
            }
            return HTTPResponse(
                status: 200, headers: ["haven-protocol": "1"],
                body: try JSONEncoder().encode(Account(name: "ed", role: .editor, limits: ServerLimits())))
        }
    }

    @Test func aServerThatNoLongerSpeaksThisVersionSaysUpdateHavenAndNothingIsLost() async throws {
        // Given a server that refuses this client's version, and an unsent story
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let id = try replica.add(.story, values: Fixtures.story("Shelter"))
        let message = "Haven-Protocol: 1 is too old: this server speaks protocol version 2; update haven"
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { _ in .status(426, .upgradeRequired, message: message) }

            // When it syncs
            let error = await #expect(throws: ServerError.self) {
                _ = try await makeEngine(replica, link, .init(retry: .forever)).sync()
            }

            // Then it failed at once, without retrying, in words that say to update haven
            #expect(link.requests == 1)
            #expect(error?.isTransient == false)
            #expect(error?.detail.code == .upgradeRequired)
            #expect(
                error?.description
                    == "server answered 426: \(message) (upgrade_required) — this version of haven is too old for the "
                    + "server: update haven, then sync again; unsent changes are kept")
        }
        // And the story is still waiting to be sent
        #expect(try replica.pendingChanges(limit: 10).map(\.record.id) == [id])
    }
}
