import Foundation
import HTTPTypes
import HavenClient
import HavenCore
import HavenServer
import HummingbirdTesting
import NIOCore
import Testing

/// The server's page cap is its own: a `limit` above it is served at the cap, so a client never
/// needs to know the number.
struct PageLimitTests {
    @Test func aClientAskingForMoreThanTheCapCompletesASync() async throws {
        // Given a server capped at 50 records a page, holding 120 published stories
        let server = try await TestServer.make(configuration: ServerConfiguration(pageLimit: 50))
        let path = server.directory.appendingPathComponent("replica.sqlite").path
        try await server.test { client in
            var device = Device("seed")
            let changes = (1...120).map {
                device.change(RecordID.random(), .story, Fields.story("Story \($0)", status: "published"))
            }
            _ = try await client.push(changes, token: server["editor"])

            // When a real client syncs in-process, asking for 500 records a page whatever their size
            let url = URL(string: "http://haven.test")!
            let replica = try Replica.create(at: path, server: url, token: server["reader"])
            let api = ServerAPI(server: url, token: server["reader"], transport: RouterTransport(client))
            let engine = SyncEngine(
                replica: replica, api: api, configuration: .init(pageLimit: 500, pageBytes: nil))
            let summary = try await engine.sync()

            // Then it received all 120 stories in pages of 50, 50 and 20
            #expect(summary.pulledRecords == 120)
            #expect(summary.pages == 3)
            #expect(try replica.records(.story).count == 120)
        }
    }

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

/// The client's transport over the router of a test application: requests go in-process, as
/// the client makes them (less `Accept-Encoding`, since no URLSession is there to inflate).
private struct RouterTransport: HTTPTransport {
    let client: any TestClientProtocol

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    func send(_ request: HavenClient.HTTPRequest) async throws -> HavenClient.HTTPResponse {
        let components = try #require(URLComponents(url: request.url, resolvingAgainstBaseURL: false))
        let uri = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var headers = HTTPFields()
        for (name, value) in request.headers where name.lowercased() != "accept-encoding" {
            headers[try #require(HTTPField.Name(name))] = value
        }
        let response = try await client.execute(
            uri: uri, method: try #require(HTTPTypes.HTTPRequest.Method(request.method)), headers: headers,
            body: request.body.map { ByteBuffer(bytes: $0) })
        return HavenClient.HTTPResponse(
            status: Int(response.status.code),
            headers: Dictionary(
                response.headers.map { ($0.name.rawName, $0.value) }, uniquingKeysWith: { first, _ in first }),
            body: Data(response.body.readableBytesView))
    }
}
