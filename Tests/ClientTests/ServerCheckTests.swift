import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// `haven init` and `haven login` check the server before saving anything. On a flaky link a
/// dropped request is sent again; a server's refusal is final.
@Suite(.temporaryDirectory)
struct ServerCheckTests {
    @Test func aCheckWhoseRequestsTheLinkDropsIsSentAgainUntilOneGetsThrough() async throws {
        let server = try await InProcessServer.make()
        try await server.run { client in
            // Given a link that drops requests, before the server and after it
            let link = FaultyLink(over: RouterTransport(client)) { attempt in
                [1: .dropRequest, 2: .dropAnswer, 4: .dropRequest][attempt.number]
            }
            // When the token is checked and the publisher keys fetched
            let account = try await ServerCheck.account(at: Fixtures.server, token: server.token(.field), transport: link)
            let keys = try await ServerCheck.publisherKeys(at: Fixtures.server, token: server.token(.field), transport: link)
            // Then both came through, the first on its third request and the second on its second
            #expect(account.role == .field)
            let direct = try await ServerAPI(server: Fixtures.server, token: server.token(.field), transport: RouterTransport(client))
                .publisher().keys
            #expect(keys == direct)
            #expect(link.drops == 3 && link.requests == 5)
        }
    }

    @Test func aLinkThatDropsEveryRequestFailsAfterItsAttemptsSayingSo() async throws {
        let server = try await InProcessServer.make()
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { _ in .dropRequest }
            let error = await #expect(throws: ClientError.self) {
                try await ServerCheck.account(at: Fixtures.server, token: server.token(.field), transport: link)
            }
            #expect(error?.code == .unreachable)
            #expect(error?.message.contains("cannot reach the server") == true)
            #expect(error?.message.contains("nothing was saved") == true)
            #expect(link.requests == ServerCheck.linkAttempts)
        }
    }

    @Test func aRefusedTokenIsNotAskedAgain() async throws {
        let server = try await InProcessServer.make()
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { _ in nil }
            let error = await #expect(throws: ClientError.self) {
                try await ServerCheck.account(at: Fixtures.server, token: "hvn_not-a-token-the-server-knows", transport: link)
            }
            #expect(error?.message.contains("refused the token") == true)
            #expect(link.requests == 1)
        }
    }
}
