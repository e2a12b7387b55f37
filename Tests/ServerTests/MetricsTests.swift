import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Logging
import Testing

/// `GET /metrics`: what it counts, with which labels, and who may read it.
struct MetricsTests {
    @Test func countsRequestsChangesAndLatenciesWithRouteLabels() async throws {
        // Given a push of two stories, the same push again, a rejected change, two pulls, a
        // long-poll, a bad pull and a request for an unknown path with an id and a query in it
        let server = try await TestServer.make()
        let metrics = ServerMetrics()
        var device = Device("m1")
        let changes = [
            device.change(RecordID.random(), .story, Fields.story("One")),
            device.change(RecordID.random(), .story, Fields.story("Two")),
        ]
        var field = Device("m2")
        let forbidden = field.change(RecordID.random(), .resource, Fields.resource("Clinic"))
        let exposition = try await test(server, metrics: metrics) { client in
            #expect(try await client.push(changes, token: server["editor"]).statuses == [.applied, .applied])
            #expect(try await client.push(changes, token: server["editor"]).statuses == [.duplicate, .duplicate])
            #expect(try await client.push([forbidden], token: server["field"]).statuses == [.rejected])
            let cursor = try await client.pull(token: server["reader"]).cursor
            _ = try await client.pull(token: server["editor"], limit: 1)
            let poll = try await client.get("/v1/changes?since=\(cursor)&wait=0.2", token: server["reader"])
            #expect(poll.status == .ok)
            #expect(try await client.get("/v1/changes?limit=0", token: server["reader"]).status == .badRequest)
            #expect(try await client.get("/v1/records/0f0e-secret?token=hvn_leak", token: nil).status == .notFound)

            // When an admin scrapes, after one more change reaches the store directly
            var direct = Device("m3")
            _ = try await server.log.push(
                [direct.change(RecordID.random(), .story, Fields.story("Three"))],
                by: Caller(tokenID: server.ids["editor"]!, name: "editor", role: .editor), now: TestServer.now)
            let response = try await client.get("/metrics", token: server["admin"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            return response.text
        }
        let samples = Self.samples(exposition)

        // Then requests are counted by route pattern, method and status
        #expect(samples[#"haven_http_requests_total{route="/v1/changes",method="POST",status="200"}"#] == 3)
        #expect(samples[#"haven_http_requests_total{route="/v1/changes",method="GET",status="200"}"#] == 3)
        #expect(samples[#"haven_http_requests_total{route="/v1/changes",method="GET",status="400"}"#] == 1)
        #expect(samples[#"haven_http_requests_total{route="unmatched",method="GET",status="404"}"#] == 1)
        // And no label carries a raw path, id, query or token
        #expect(!exposition.contains("records") && !exposition.contains("secret") && !exposition.contains("hvn_"))

        // And changes by outcome, the log size read at scrape time, and the latencies
        #expect(samples[#"haven_changes_total{result="applied"}"#] == 2)
        #expect(samples[#"haven_changes_total{result="duplicate"}"#] == 2)
        #expect(samples[#"haven_changes_total{result="rejected"}"#] == 1)
        #expect(samples["haven_change_log_rows"] == 3)
        #expect(samples["haven_push_duration_seconds_count"] == 3)
        #expect(samples[#"haven_push_duration_seconds_bucket{le="+Inf"}"#] == 3)
        #expect((samples["haven_push_duration_seconds_sum"] ?? 0) > 0)
        #expect(samples[#"haven_pull_duration_seconds_count{long_poll="false"}"#] == 2)
        #expect(samples[#"haven_pull_duration_seconds_count{long_poll="true"}"#] == 1)
        #expect((samples[#"haven_pull_duration_seconds_sum{long_poll="true"}"#] ?? 0) >= 0.19)
    }

    @Test func eachApplicationCountsOnItsOwn() async throws {
        // Given two applications in one process, each with its own metrics
        let server = try await TestServer.make()
        let first = ServerMetrics()
        let second = ServerMetrics()

        // When only the first answers a request
        _ = try await test(server, metrics: first) { client in try await client.get("/healthz", token: nil) }

        // Then only the first counted it
        let counted = #"haven_http_requests_total{route="/healthz",method="GET",status="200"}"#
        #expect(Self.samples(String(decoding: first.exposition(), as: UTF8.self))[counted] == 1)
        #expect(Self.samples(String(decoding: second.exposition(), as: UTF8.self))[counted] == nil)
    }

    /// Deny by default: an admin token or nothing.
    @Test(
        arguments: [
            (nil, 401, "unauthorized"), ("expired", 401, "unauthorized"), ("revoked", 401, "unauthorized"),
            ("editor", 403, "forbidden"), ("field", 403, "forbidden"), ("reader", 403, "forbidden"),
        ] as [(String?, Int, String)])
    func metricsNeedAnAdminToken(token: String?, status: Int, code: String) async throws {
        let server = try await TestServer.make()
        let response = try await server.test { client in
            try await client.get("/metrics", token: token.map { server[$0] })
        }
        #expect(response.status.code == status)
        #expect(try response.error().code.rawValue == code)
        #expect(!response.text.contains("haven_"))
    }

    // MARK: - Helpers

    private func test<Value: Sendable>(
        _ server: TestServer, metrics: ServerMetrics, _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let logger = Logger(label: "metrics-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger, clock: { TestServer.now },
            metrics: metrics)
        return try await app.test(.router, body)
    }

    /// Sample lines of a Prometheus exposition: `name{labels}` as written → value.
    static func samples(_ exposition: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
