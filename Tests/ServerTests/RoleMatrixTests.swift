import Foundation
import HavenCore
import HavenServer
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// Every cell of role × route × method (DESIGN §4, deny by default), then what each role may
/// write through `POST /v1/changes`.
struct RoleMatrixTests {
    /// Who calls: no token, a token of each role, an expired one and a revoked one.
    enum Caller: String, CaseIterable, Sendable {
        case none, admin, editor, field, reader, expired, revoked

        /// The `Authorization` header, none for `.none`.
        func header(on server: TestServer) -> String? {
            self == .none ? nil : "Bearer \(server[rawValue])"
        }
    }

    /// One cell and the status it must answer.
    struct Cell: Sendable, CustomTestStringConvertible {
        let caller: Caller
        let path: String
        let method: HTTPRequest.Method
        let status: Int

        var testDescription: String { "\(caller.rawValue) \(method) \(path) → \(status)" }
    }

    /// The expected status of every cell: one row per route and method, one column per caller
    /// in the order of ``Caller``.
    static let table: [(path: String, method: HTTPRequest.Method, statuses: [Int])] = [
        // Columns: none, admin, editor, field, reader, expired, revoked.
        ("/healthz", .get, [200, 200, 200, 200, 200, 200, 200]),
        ("/healthz", .post, [405, 405, 405, 405, 405, 405, 405]),
        ("/healthz", .put, [405, 405, 405, 405, 405, 405, 405]),
        ("/healthz", .patch, [405, 405, 405, 405, 405, 405, 405]),
        ("/healthz", .delete, [405, 405, 405, 405, 405, 405, 405]),
        ("/healthz", .head, [405, 405, 405, 405, 405, 405, 405]),
        ("/v1/changes", .get, [401, 200, 200, 200, 200, 401, 401]),
        ("/v1/changes", .post, [401, 200, 200, 200, 403, 401, 401]),
        ("/v1/changes", .put, [401, 405, 405, 405, 405, 401, 401]),
        ("/v1/changes", .patch, [401, 405, 405, 405, 405, 401, 401]),
        ("/v1/changes", .delete, [401, 405, 405, 405, 405, 401, 401]),
        ("/v1/changes", .head, [401, 405, 405, 405, 405, 401, 401]),
        ("/metrics", .get, [401, 200, 403, 403, 403, 401, 401]),
        ("/metrics", .post, [401, 405, 405, 405, 405, 401, 401]),
        ("/metrics", .put, [401, 405, 405, 405, 405, 401, 401]),
        ("/metrics", .patch, [401, 405, 405, 405, 405, 401, 401]),
        ("/metrics", .delete, [401, 405, 405, 405, 405, 401, 401]),
        ("/metrics", .head, [401, 405, 405, 405, 405, 401, 401]),
    ]

    static let cells: [Cell] = table.flatMap { row in
        zip(Caller.allCases, row.statuses).map { Cell(caller: $0, path: row.path, method: row.method, status: $1) }
    }

    /// What a route takes, as its 405 answers must say in `Allow`.
    static let allow = ["/healthz": "GET", "/v1/changes": "GET, POST", "/metrics": "GET"]

    @Test func theTableCoversEveryRouteAndMethod() {
        #expect(Self.table.count == 3 * 6)
        #expect(Set(Self.table.map { "\($0.method) \($0.path)" }).count == Self.table.count)
        #expect(Self.table.allSatisfy { $0.statuses.count == Caller.allCases.count })
    }

    @Test(arguments: StorageBackend.all, cells)
    func cell(_ backend: StorageBackend, _ cell: Cell) async throws {
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given the caller's token, and for POST a push of one new draft story
            var headers: HTTPFields = [:]
            if let header = cell.caller.header(on: server) { headers[.authorization] = header }
            var body: ByteBuffer?
            if cell.method == .post {
                var device = Device("m1")
                let push = PushRequest(changes: [device.change(RecordID.random(), .story, Fields.story("Matrix"))])
                body = ByteBuffer(bytes: try JSONEncoder().encode(push))
                headers[.contentType] = "application/json"
            }

            // When it calls the route with the method
            let response = try await client.execute(uri: cell.path, method: cell.method, headers: headers, body: body)

            // Then the status is the table's, with the JSON error or the route's answer
            #expect(Int(response.status.code) == cell.status, "\(response.text)")
            if cell.method == .head {
                #expect(response.body.readableBytes == 0, "HEAD answers carry no body")
            } else if cell.status >= 400 {
                let error = try response.error()
                #expect(error.code.rawValue == Self.errorCode(for: cell.status))
                #expect(!error.message.isEmpty)
            }
            if cell.status == 405 {
                #expect(response.headers[.allow] == Self.allow[cell.path])
            }
            if cell.status == 200 {
                try Self.checkAnswer(response, path: cell.path, method: cell.method)
            }
        }
    }

    static func errorCode(for status: Int) -> String {
        switch status {
        case 401: "unauthorized"
        case 403: "forbidden"
        case 405: "method_not_allowed"
        default: "unexpected \(status)"
        }
    }

    /// The body of a 200: the route's own answer.
    static func checkAnswer(_ response: TestResponse, path: String, method: HTTPRequest.Method) throws {
        switch (path, method) {
        case ("/healthz", .get):
            #expect(try response.decode([String: String].self) == ["status": "ok"])
        case ("/v1/changes", .get):
            #expect(try response.decode(PullResponse.self).changes.isEmpty)
        case ("/v1/changes", .post):
            #expect(try response.decode(PushResponse.self).statuses == [.applied])
        case ("/metrics", .get):
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
        default:
            Issue.record("no 200 expected for \(method) \(path)")
        }
    }

    // MARK: What each role may write

    /// A write through `POST /v1/changes`, made on a server that holds a draft story by the
    /// writer (`own`), a draft by another token (`others`) and a published resource.
    enum Write: String, CaseIterable, Sendable {
        case createDraftStory, createPublishedStory, createResource
        case editOwnDraft, publishOwnDraft, deleteOwnDraft
        case editOthersDraft, deleteOthersDraft, editResource
    }

    /// The result of each write for each role that may push: `applied` or the rejection.
    /// A reader's push is refused whole with 403, whatever it holds.
    static let writes: [(Write, admin: String, editor: String, field: String)] = [
        // Columns: admin, editor, field.
        (.createDraftStory, "applied", "applied", "applied"),
        (.createPublishedStory, "applied", "applied", "forbidden"),
        (.createResource, "applied", "applied", "forbidden"),
        (.editOwnDraft, "applied", "applied", "applied"),
        (.publishOwnDraft, "applied", "applied", "forbidden"),
        (.deleteOwnDraft, "applied", "applied", "applied"),
        // A draft field staff may not see answers as a fresh id would: the partial edit lacks
        // a story's required fields, the delete is refused only as it would write.
        (.editOthersDraft, "applied", "applied", "missing_field"),
        (.deleteOthersDraft, "applied", "applied", "id_taken"),
        (.editResource, "applied", "applied", "forbidden"),
    ]

    static let writeCells: [(Write, String, String)] = writes.flatMap { row in
        [
            (row.0, "admin", row.admin), (row.0, "editor", row.editor), (row.0, "field", row.field),
            (row.0, "reader", "403"),
        ]
    }

    @Test(arguments: StorageBackend.all, writeCells)
    func write(_ backend: StorageBackend, _ cell: (write: Write, role: String, outcome: String)) async throws {
        let (write, role, outcome) = cell
        let server = try await TestServer.make(backend: backend)
        try await server.test { client in
            // Given a draft by the writer (by an editor for a reader, who cannot create one), a
            // draft by field2 and a published resource by editor2
            let ownToken = role == "reader" ? "editor" : role
            var writer = Device("w1")
            var other = Device("o1")
            var otherEditor = Device("o2")
            let own = RecordID.random()
            let others = RecordID.random()
            let resource = RecordID.random()
            _ = try await client.push([writer.change(own, .story, Fields.story("Own"))], token: server[ownToken])
            _ = try await client.push([other.change(others, .story, Fields.story("Other's"))], token: server["field2"])
            _ = try await client.push(
                [otherEditor.change(resource, .resource, Fields.resource("Shelter"))], token: server["editor2"])
            let cursor = try await client.pull(token: server["admin"]).cursor

            // When `role` makes the write
            var device = Device("w2", wallTime: TestServer.now + 1_000)
            let change: Change =
                switch write {
                case .createDraftStory: device.change(RecordID.random(), .story, Fields.story("New"))
                case .createPublishedStory:
                    device.change(RecordID.random(), .story, Fields.story("New", status: "published"))
                case .createResource: device.change(RecordID.random(), .resource, Fields.resource("Clinic"))
                case .editOwnDraft: device.change(own, .story, ["title": "Own, edited"], base: cursor)
                case .publishOwnDraft: device.change(own, .story, ["status": "published"], base: cursor)
                case .deleteOwnDraft: device.change(own, .story, deleted: true, base: cursor)
                case .editOthersDraft: device.change(others, .story, ["title": "Hijacked"], base: cursor)
                case .deleteOthersDraft: device.change(others, .story, deleted: true, base: cursor)
                case .editResource: device.change(resource, .resource, ["phone": "+82 2 0000 0000"], base: cursor)
                }
            let response = try await client.post(
                "/v1/changes", token: server[role], body: try JSONEncoder().encode(PushRequest(changes: [change])))

            // Then the outcome is the table's, and a refused write changes nothing
            switch outcome {
            case "403":
                #expect(response.status == .forbidden)
                #expect(try response.error().code == .forbidden)
            case "applied":
                #expect(response.status == .ok)
                #expect(try response.decode(PushResponse.self).statuses == [.applied])
            default:
                #expect(response.status == .ok)
                let result = try #require(try response.decode(PushResponse.self).results.first)
                #expect(result.status == .rejected)
                #expect(result.error?.code.rawValue == outcome)
            }
            if outcome != "applied" {
                #expect(try await client.pull(token: server["admin"], since: cursor).changes.isEmpty)
            }
        }
    }
}
