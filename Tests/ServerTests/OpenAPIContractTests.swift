import Foundation
import HTTPTypes
import HavenCore
import HavenServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `docs/openapi.yaml` against the real router and real answers: a route, method, error code or
/// body field that one has and the other lacks fails here.
struct OpenAPIContractTests {
    @Test func documentsExactlyTheRoutesTheRouterServes() async throws {
        // Given the document and the router the server runs
        let document = try OpenAPIDocument.load()
        let server = try await TestServer.make()
        let router = buildRouter(store: server.store, configuration: server.configuration, clock: { TestServer.now })
        // The console's HTML pages are not API operations: the document names /console once.
        let routes = router.routes.map { (path: Self.openAPIPath($0.path.description), method: $0.method) }
            .filter { !$0.path.hasPrefix("/console") }
        try #require(!routes.isEmpty)
        #expect(document.text.contains("/console"))

        // When each route is called with an admin token, 405 marks a method the path refuses
        let answers = try await server.test { client in
            var answers: [(path: String, method: HTTPRequest.Method, status: HTTPResponse.Status, allow: String?)] = []
            for route in routes {
                let response = try await client.execute(
                    uri: route.path, method: route.method, headers: [.authorization: "Bearer \(server["admin"])"])
                answers.append((route.path, route.method, response.status, response.headers[.allow]))
            }
            return answers
        }
        let served = Set(answers.filter { $0.status != .methodNotAllowed }.map { "\($0.method) \($0.path)" })

        // Then the document's operations are exactly the routes served, on exactly the router's paths
        #expect(
            served == document.operations,
            "router only: \(served.subtracting(document.operations)); document only: \(document.operations.subtracting(served))"
        )
        #expect(Set(routes.map(\.path)) == document.paths)

        // And every refused method names, in Allow, just the documented methods of its path
        for answer in answers where answer.status == .methodNotAllowed {
            let documented = document.operations.filter { $0.hasSuffix(" \(answer.path)") }
                .map { String($0.prefix { $0 != " " }) }
            let allowed = (answer.allow ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(
                Set(allowed) == Set(documented), "\(answer.method) \(answer.path): Allow: \(answer.allow ?? "none")")
        }
    }

    @Test func documentsEveryErrorCodeTheServerUses() throws {
        // Given every error code written in the server's sources (and the record validation codes)
        let document = try OpenAPIDocument.load()
        let codes = try Self.errorCodesInSources()
        #expect(codes.isSuperset(of: ["unauthorized", "forbidden", "cursor_expired", "invalid_json", "unavailable"]))

        // Then each appears in the document, as `code`
        let missing = codes.filter { !document.text.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "error codes missing from docs/openapi.yaml: \(missing)")
    }

    /// Each error status, and where the document answers it.
    @Test(arguments: [
        (400, "get /v1/changes"), (400, "post /v1/changes"), (401, "get /v1/changes"), (401, "post /v1/changes"),
        (401, "get /metrics"), (403, "post /v1/changes"), (403, "get /metrics"), (410, "get /v1/changes"),
        (413, "post /v1/changes"), (415, "post /v1/changes"), (429, "post /v1/changes"), (429, "get /v1/changes"),
        (429, "get /metrics"), (503, "get /healthz"),
    ])
    func documentsErrorStatus(status: Int, operation: String) throws {
        let document = try OpenAPIDocument.load()
        let parts = operation.split(separator: " ").map(String.init)
        let responses = try #require(document.root["paths"]?[parts[1]]?[parts[0]]?["responses"], "\(operation)")
        let response = try #require(responses[String(status)], "\(operation) does not document \(status)")
        let resolved = response["$ref"]?.scalar.flatMap(document.resolve) ?? response
        let schema = resolved["content"]?["application/json"]?["schema"]?["$ref"]?.scalar
        #expect(schema == "#/components/schemas/ErrorBody", "\(operation) \(status) is not an ErrorBody")
    }

    @Test func documentsUnknownPathsAndMethodsWithTheirCodes() async throws {
        // Given the document's shared responses
        let document = try OpenAPIDocument.load()
        let notFound = try #require(document.resolve("#/components/responses/NotFound")?["description"]?.scalar)
        let notAllowed = try #require(document.resolve("#/components/responses/MethodNotAllowed"))
        #expect(notAllowed["headers"]?["Allow"] != nil)

        // When an unknown path and a refused method are called
        let server = try await TestServer.make()
        let (unknown, refused) = try await server.test { client in
            let unknown = try await client.get("/v2/nothing", token: nil)
            let refused = try await client.execute(uri: "/healthz", method: .delete)
            return (try unknown.error(), try refused.error())
        }

        // Then their codes are the documented ones
        #expect(notFound.contains("`\(unknown.code)`"))
        #expect(notAllowed["description"]?.scalar?.contains("`\(refused.code)`") == true)
    }

    @Test func bodiesMatchTheirSchemas() async throws {
        // Given a push that is applied, repeated and rejected, a conflict, a delete and a removal
        let document = try OpenAPIDocument.load()
        let server = try await TestServer.make()
        let bodies = try await server.test { client in
            var origin = Device("c0", wallTime: TestServer.now - 60_000)
            let id = RecordID.random()
            let first = origin.change(id, .story, Fields.story("Shared", status: "published"))
            let push = try await client.push([first], token: server["editor"])
            try #require(push.statuses == [.applied])
            let base = try await client.pull(token: server["editor"]).cursor
            var loser = Device("aaaa", wallTime: TestServer.now)
            var winner = Device("bbbb", wallTime: TestServer.now + 1_000)
            let losing = loser.change(id, .story, ["title": "Loses"], base: base)
            let deleting = winner.change(id, .story, ["status": "draft"], deleted: true, base: base)
            var field = Device("ffff")
            let rejected = field.change(RecordID.random(), .resource, Fields.resource("Clinic"))
            let request = PushRequest(changes: [losing])
            var bodies: [(schema: String, json: Data)] = [("PushRequest", try JSONEncoder().encode(request))]
            _ = try await client.push([deleting], token: server["editor2"])
            let pushed = try await client.post(
                "/v1/changes", token: server["editor"], body: try JSONEncoder().encode(request))
            bodies.append(("PushResponse", Data(pushed.body.readableBytesView)))
            let again = try await client.post(
                "/v1/changes", token: server["field"], body: try JSONEncoder().encode(PushRequest(changes: [rejected])))
            bodies.append(("PushResponse", Data(again.body.readableBytesView)))
            let pulled = try await client.get("/v1/changes?since=\(base)", token: server["editor"])
            bodies.append(("PullResponse", Data(pulled.body.readableBytesView)))
            let removed = try await client.get("/v1/changes?since=\(base)", token: server["reader"])
            bodies.append(("PullResponse", Data(removed.body.readableBytesView)))
            let error = try await client.get("/v1/changes?limit=0", token: server["reader"])
            bodies.append(("ErrorBody", Data(error.body.readableBytesView)))
            let health = try await client.get("/healthz", token: nil)
            bodies.append(("HealthStatus", Data(health.body.readableBytesView)))
            let account = try await client.get("/v1/me", token: server["field"])
            bodies.append(("Account", Data(account.body.readableBytesView)))
            return bodies
        }

        // Then the examples really hold what the test meant to check
        let texts = bodies.map { String(decoding: $0.json, as: UTF8.self) }
        for needle in [
            #""status":"rejected""#, #""status":"applied""#, #""conflicts":[{"#, #""removed":[""#, #""deleted":{"#,
        ] {
            #expect(texts.contains { $0.contains(needle) }, "no body has \(needle)")
        }

        // And every body matches its schema, field for field
        for (schema, json) in bodies {
            let value = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            let problems = SchemaCheck(document: document).problems(
                in: value, against: try #require(document.resolve("#/components/schemas/\(schema)")), at: schema)
            #expect(problems.isEmpty, "\(schema): \(problems)")
        }
    }

    // MARK: - Helpers

    /// `/records/:id` → `/records/{id}`.
    static func openAPIPath(_ routerPath: String) -> String {
        routerPath.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    /// The error codes the server answers: every `ErrorCode` named in `Sources/SyncServer` and in
    /// Core's validation errors, as its raw value from `Sources/Core/ErrorCode.swift`.
    static func errorCodesInSources() throws -> Set<String> {
        let root = OpenAPIDocument.root
        let vocabulary = try String(contentsOf: root.appendingPathComponent("Sources/Core/ErrorCode.swift"), encoding: .utf8)
        var rawValues: [String: String] = [:]
        for match in vocabulary.matches(of: #/static let `?(\w+)`? = ErrorCode\(rawValue: "([a-z0-9_]+)"\)/#) {
            rawValues[String(match.1)] = String(match.2)
        }
        var files = [root.appendingPathComponent("Sources/Core/ValidationError.swift")]
        let serverSources = root.appendingPathComponent("Sources/SyncServer")
        let enumerator = try #require(
            FileManager.default.enumerator(at: serverSources, includingPropertiesForKeys: nil))
        for case let url as URL in enumerator where url.pathExtension == "swift" { files.append(url) }
        var codes: Set<String> = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: #/(?:code:\s*|badRequest\(|ErrorCode)\.`?(\w+)/#) {
                if let raw = rawValues[String(match.1)] { codes.insert(raw) }
            }
        }
        return codes
    }
}

/// Checks a decoded JSON value against a schema of the document: types, enums, patterns,
/// required properties, and no property the schema does not declare.
struct SchemaCheck {
    let document: OpenAPIDocument

    func problems(in value: Any, against schema: OpenAPIDocument.Node, at path: String) -> [String] {
        if let reference = schema["$ref"]?.scalar {
            guard let target = document.resolve(reference) else { return ["\(path): unresolved \(reference)"] }
            return problems(in: value, against: target, at: path)
        }
        switch schema["type"]?.scalar {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
            var found = schema["required"]?.list.filter { object[$0] == nil }.map { "\(path).\($0): missing" } ?? []
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                if let property = schema["properties"]?[key] {
                    found += problems(in: member, against: property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"], additional.scalar == nil {
                    found += problems(in: member, against: additional, at: "\(path).\(key)")
                } else {
                    found.append("\(path).\(key): not in the document")
                }
            }
            return found
        case "array":
            guard let array = value as? [Any] else { return ["\(path): not an array"] }
            guard let items = schema["items"] else { return [] }
            return array.enumerated().flatMap { problems(in: $1, against: items, at: "\(path)[\($0)]") }
        case "string":
            guard let string = value as? String else { return ["\(path): not a string"] }
            let choices = schema["enum"]?.list ?? []
            if !choices.isEmpty, !choices.contains(string) { return ["\(path): '\(string)' not in \(choices)"] }
            if let pattern = schema["pattern"]?.scalar, string.range(of: pattern, options: .regularExpression) == nil {
                return ["\(path): '\(string)' does not match \(pattern)"]
            }
            return []
        case "integer":
            return value is NSNumber && (value as? Double).map { $0 == $0.rounded() } == true
                ? [] : ["\(path): not an integer"]
        case "number":
            return value is NSNumber ? [] : ["\(path): not a number"]
        case "boolean":
            return value is Bool ? [] : ["\(path): not a boolean"]
        default:
            // No type: any JSON value.
            return []
        }
    }
}
