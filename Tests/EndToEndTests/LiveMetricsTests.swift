import Foundation
import HavenCore
import Testing
import TestSupport

/// `GET /metrics` and `GET /healthz` on a live `haven-server`.
@Suite(.serialized)
struct LiveMetricsTests {
    @Test func scrapesWhatThePushesAndPullsDid() async throws {
        // Given a live server, an admin and an editor
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let admin = try server.token(role: "admin", name: "admin")
        let editor = try server.token(role: "editor", name: "editor")
        let port = try #require(Int(server.url.split(separator: ":").last ?? ""))

        // When the editor pushes two stories and pulls, and the admin scrapes
        var clock = HybridLogicalClock(replica: ReplicaID("livemetrics")!)
        let changes = (1...2).map { index in
            let stamp = clock.now()
            let fields: [String: JSONValue] = [
                "title": .string("Story \(index)"), "body": "Body.", "language": "en", "status": "draft",
            ]
            return Change(
                id: "livemetrics-\(index)", base: nil,
                record: RecordState(
                    id: RecordID.random(), kind: .story, fields: fields.mapValues { Register($0, stamp: stamp) }))
        }
        let body = try JSONEncoder().encode(PushRequest(changes: changes))
        let pushed = try send(
            port, "POST", "/v1/changes", token: editor, body: body,
            headers: ["Content-Type": "application/json", "Content-Length": "\(body.count)"])
        #expect(pushed.status == 200)
        #expect(try send(port, "GET", "/v1/changes", token: editor).status == 200)
        let health = try send(port, "GET", "/healthz", token: nil)
        let scrape = try send(port, "GET", "/metrics", token: admin)

        // Then the scrape shows them, by route pattern
        #expect(health.status == 200 && String(decoding: health.body, as: UTF8.self) == #"{"status":"ok"}"#)
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
        let text = String(decoding: scrape.body, as: UTF8.self)
        for line in [
            #"haven_http_requests_total{route="/v1/changes",method="POST",status="200"} 1"#,
            #"haven_http_requests_total{route="/v1/changes",method="GET",status="200"} 1"#,
            #"haven_http_requests_total{route="/healthz",method="GET",status="200"} 1"#,
            #"haven_changes_total{result="applied"} 2"#, "haven_change_log_rows 2.0",
            "haven_push_duration_seconds_count 1",
            #"haven_pull_duration_seconds_count{long_poll="false"} 1"#,
        ] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "missing \(line) in:\n\(text)")
        }

        // And nobody but an admin may scrape
        #expect(try send(port, "GET", "/metrics", token: nil).status == 401)
        #expect(try send(port, "GET", "/metrics", token: editor).status == 403)
    }

    /// One request on its own connection.
    private func send(
        _ port: Int, _ method: String, _ target: String, token: String?, body: Data = Data(),
        headers: [String: String] = [:]
    ) throws -> RawConnection.Response {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        let connection = try RawConnection(port: port)
        try connection.write(Data((text + "\r\n").utf8) + body)
        return try connection.readResponse()
    }
}
