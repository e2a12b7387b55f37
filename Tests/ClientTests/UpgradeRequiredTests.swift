import Foundation
import HavenCore
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
