import Foundation
import HavenCore
import HavenServer
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// What the server logs: one line per request with its id, route, status and duration, and
/// never a token, a record's content, a raw path or a query.
struct LogPrivacyTests {
    @Test func logsRequestsWithoutTokensContentPathsOrQueries() async throws {
        // Given a server whose log lines are kept, and content no log may hold
        let server = try await TestServer.make()
        let lines = LogLines()
        let logger = Logger(label: "log-privacy-tests", factory: { _ in CapturingLogHandler(lines: lines) })
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger, clock: { TestServer.now })
        var device = Device("l1")
        let id = RecordID.random()
        let change = device.change(id, .story, Fields.story("Secret title of a witness", status: "published"))

        // When a push, a pull, failed authentications and a bad request pass through
        try await app.test(.router) { client in
            _ = try await client.push([change], token: server["editor"])
            _ = try await client.pull(token: server["reader"])
            _ = try await client.get("/v1/changes", token: "hvn_not-a-real-token-but-still-secret")
            _ = try await client.get("/v1/changes?since=\(id)", token: server["reader"])
            _ = try await client.post(
                "/v1/changes", token: server["editor"], body: Data(#"{"changes":[{"id":"Secret title"}]}"#.utf8))
        }

        // Then every request has a line with its id, route, status and duration
        let requests = lines.all.filter { $0.message == "request" }
        #expect(requests.count == 5)
        for line in requests {
            #expect(line.metadata["hb.request.id"] != nil)
            #expect(line.metadata["route"] == "/v1/changes")
            #expect(line.metadata["status"] != nil && line.metadata["ms"] != nil)
        }
        // And no line holds a token, the content, the record's id or the query
        let secrets = [server["editor"], server["reader"], "hvn_not-a-real-token", "Secret title", "witness", id]
        for line in lines.all {
            for secret in secrets {
                #expect(!line.text.contains(secret), "log line leaks \(secret): \(line.text)")
            }
        }
    }
}

/// Log lines kept in memory.
final class LogLines: Sendable {
    struct Line: Sendable {
        var message: String
        var metadata: [String: String]
        var text: String {
            message + " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    private let lines = Mutex<[Line]>([])
    var all: [Line] { lines.withLock { $0 } }
    func append(_ line: Line) { lines.withLock { $0.append(line) } }
}

/// A log handler that keeps every line, at every level.
struct CapturingLogHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.append(.init(message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
