import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import NIOCore
import Testing

/// The server's page cap is its own: a `limit` above it is served at the cap, so a client never
/// needs to know the number.
struct PageLimitTests {
    @Test(
        arguments: [(nil, 5), ("1", 1), ("5", 5), ("6", 5), ("500", 5), ("99999999999999999999999", 5)]
            as [(String?, Int)])
    func limitAboveTheCapIsServedAtTheCap(limit: String?, served: Int) async throws {
        // Given a server capped at 5 records a page, holding 8 stories
        let server = try await TestServer.make(configuration: ServerConfiguration(pageLimit: 5))
        try await server.test { client in
            var device = Device("seed")
            let changes = (1...8).map { device.change(RecordID.random(), .story, Fields.story("Story \($0)")) }
            _ = try await client.push(changes, token: server["editor"])

            // When a page is asked for with this limit
            let uri = "/v1/changes" + (limit.map { "?limit=\($0)" } ?? "")
            let response = try await client.get(uri, token: server["editor"])

            // Then it holds at most the cap, and says more follow
            #expect(response.status == .ok, "\(response.text)")
            let page = try response.decode(PullResponse.self)
            #expect(page.changes.count == served)
            #expect(page.more)
        }
    }
}
