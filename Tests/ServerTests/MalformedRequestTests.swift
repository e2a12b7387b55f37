import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TestSupport

@testable import HavenServer

/// Generated malformed requests: bad JSON, wrong types at every level of a push, invalid UTF-8,
/// deep nesting, huge numbers, truncated and oversize bodies, bad and duplicate headers, bad
/// queries and cursors, bad methods and paths, garbage `Authorization`.
///
/// Every answer must be a 4xx with the JSON error shape, or a 200 whose body is the route's
/// answer (a push of valid JSON with bad content gets per-change rejections). Never a 5xx,
/// never a crash. The generator is seeded: set `HAVEN_FUZZ_SEED` to replay a failure.
struct MalformedRequestTests {
    static let seed: UInt64 =
        ProcessInfo.processInfo.environment["HAVEN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_250_615

    @Test func tenThousandMalformedRequests() async throws {
        let report = try await Self.run(count: 10_000, seed: Self.seed, live: false)

        #expect(report.failures.isEmpty, "seed \(Self.seed): \(report.failures.prefix(10).joined(separator: "\n"))")
        #expect(report.serverErrors == 0)
        // Every kind of malformation was sent, and the answers were of many kinds
        #expect(Set(report.sent.keys) == Set(FuzzCategory.allCases))
        #expect(Set(report.statuses.keys).isSuperset(of: [200, 400, 401, 403, 404, 405, 410, 413, 415, 429]))
    }

    @Test func aFewHundredOverARealSocket() async throws {
        let report = try await Self.run(count: 400, seed: Self.seed &+ 1, live: true)

        #expect(
            report.failures.isEmpty, "seed \(Self.seed &+ 1): \(report.failures.prefix(10).joined(separator: "\n"))")
        #expect(report.serverErrors == 0)
        #expect(report.sent.count >= FuzzCategory.allCases.count - 3)
    }

    /// The server the requests go to: small limits, so oversize bodies are cheap to make, and a
    /// trusted forwarding header, so one test can speak for many client addresses.
    static func configuration(live: Bool) -> ServerConfiguration {
        var configuration = ServerConfiguration(
            port: live ? 0 : 8080, maxBodyBytes: 64 << 10, maxBatchSize: 10, pageLimit: 5, pageBytes: 16 << 10)
        configuration.maxRecordBytes = 8 << 10
        configuration.clientAddressHeader = "X-Forwarded-For"
        return configuration
    }

    /// Sends `count` generated requests and checks each answer.
    static func run(count: Int, seed: UInt64, live: Bool) async throws -> FuzzReport {
        let server = try await TestServer.make(configuration: configuration(live: live))
        let clock = ManualClock(TestServer.now)
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger, clock: { clock.now })
        let fixtures = FuzzFixtures(secrets: server.secrets, epoch: server.store.epoch, limits: server.configuration)
        return try await app.test(live ? .live : .router) { client in
            var generator = RequestGenerator(seed: seed, fixtures: fixtures, live: live)
            var report = FuzzReport()
            var previous = ""
            for index in 0..<count {
                // Time moves, so throttled addresses are let go again
                clock.advance(by: 10)
                let request = generator.next()
                let response: TestResponse
                do {
                    response = try await client.execute(
                        uri: request.uri, method: request.method, headers: request.headers,
                        body: request.body.map { ByteBuffer(bytes: $0) })
                } catch {
                    report.failures.append("#\(index) \(request.summary) → \(error); before it: \(previous)")
                    break
                }
                report.record(request, response, index: index)
                previous = "\(request.summary) → \(response.status) \(response.headers)"
                if report.failures.count >= 25 { break }
            }
            return report
        }
    }
}

// MARK: - What is sent and what must come back

/// The kinds of malformation, each sent about equally often.
enum FuzzCategory: String, CaseIterable, Sendable {
    case garbageAuthorization, missingAuthorization
    case truncatedBody, invalidUTF8, deepNesting, wrongType, hugeNumber, keyMutation, byteNoise
    case oversizeBody, declaredLength, badContentType, badContentEncoding, batchTooLarge
    case badQuery, badMethod, badPath, extraHeaders, badContent, readerPush, valid
}

/// One generated request and what its answer may be.
struct FuzzRequest {
    var category: FuzzCategory
    var method: HTTPRequest.Method
    var uri: String
    var headers: HTTPFields = [:]
    var body: [UInt8]?
    /// The statuses the answer may have.
    var statuses: Set<Int>
    /// The error codes a 4xx may carry; nil for any.
    var codes: Set<String>?
    /// Every change of a 200 push must be rejected with this code ("" for any code).
    var rejection: String?
    /// The `Allow` header a 405 must carry.
    var allow: String?

    /// A short description to replay by: never the whole body.
    var summary: String {
        let names = headers.map { "\($0.name)=\($0.value.prefix(60))" }.joined(separator: " ")
        let start = body.map { String(decoding: $0.prefix(160), as: UTF8.self) } ?? "-"
        return "\(category) \(method) \(uri.prefix(120)) [\(names)] body(\(body?.count ?? 0)): \(start)"
    }
}

/// The tally of a run, and every answer that broke a rule.
struct FuzzReport: Sendable {
    var sent: [FuzzCategory: Int] = [:]
    var statuses: [Int: Int] = [:]
    var serverErrors = 0
    var failures: [String] = []

    mutating func record(_ request: FuzzRequest, _ response: TestResponse, index: Int) {
        sent[request.category, default: 0] += 1
        let status = Int(response.status.code)
        statuses[status, default: 0] += 1
        if status >= 500 { serverErrors += 1 }
        let problems = Self.problems(with: response, for: request)
        if !problems.isEmpty {
            failures.append("#\(index) \(request.summary) → \(status) \(response.text.prefix(300)): \(problems)")
        }
    }

    /// What is wrong with `response` as an answer to `request`.
    static func problems(with response: TestResponse, for request: FuzzRequest) -> [String] {
        let status = Int(response.status.code)
        var problems: [String] = []
        if !request.statuses.contains(status) { problems.append("status not in \(request.statuses.sorted())") }
        if let allow = request.allow, response.headers[.allow] != allow { problems.append("Allow is not \(allow)") }
        if request.method == .head {
            if response.body.readableBytes > 0 { problems.append("a HEAD answer with a body") }
            return problems
        }
        if response.headers[.contentEncoding] != nil { return problems }
        if status >= 400 {
            guard let error = try? response.error() else { return problems + ["not the JSON error shape"] }
            if error.code.rawValue.isEmpty || error.message.isEmpty { problems.append("empty code or message") }
            if let codes = request.codes, !codes.contains(error.code.rawValue) {
                problems.append("code not in \(codes.sorted())")
            }
            if status == 405, response.headers[.allow] == nil { problems.append("405 without Allow") }
            if status == 429, response.headers[.retryAfter] == nil { problems.append("429 without Retry-After") }
            return problems
        }
        let path = request.uri.split(separator: "?").first.map(String.init) ?? ""
        switch (request.method, path) {
        case (.post, "/v1/changes"):
            guard let answer = try? response.decode(PushResponse.self) else { return problems + ["not a push answer"] }
            if let rejection = request.rejection {
                let wrong = answer.results.filter {
                    $0.status != .rejected || (!rejection.isEmpty && $0.error?.code.rawValue != rejection)
                }
                if answer.results.isEmpty || !wrong.isEmpty {
                    problems.append("expected every change rejected \(rejection)")
                }
            }
        case (.get, "/v1/changes"):
            if (try? response.decode(PullResponse.self)) == nil { problems.append("not a pull answer") }
        case (.get, "/healthz"):
            if (try? response.decode([String: String].self)) != ["status": "ok"] { problems.append("not healthy") }
        default:
            break
        }
        return problems
    }
}

/// What the generator needs from the server under test.
struct FuzzFixtures: Sendable {
    var secrets: [String: String]
    var epoch: String
    var limits: ServerConfiguration
}

// MARK: - The generator

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Makes malformed requests, one category after another at random.
struct RequestGenerator {
    var random: SeededGenerator
    let fixtures: FuzzFixtures
    /// Over a real socket, requests the HTTP parser itself refuses (before the application, with
    /// a bare 400) are not made: unknown methods, raw bytes in headers and paths, bad lengths.
    let live: Bool
    private var counter = 0

    static let standardMethods: Set<HTTPRequest.Method> = [
        .get, .head, .post, .put, .delete, .connect, .options, .trace, .patch,
    ]

    /// Valid pushes to start from, made once: encoding is the slow part of generating.
    private var pushes: [(tree: JSONNode, bytes: [UInt8])] = []

    init(seed: UInt64, fixtures: FuzzFixtures, live: Bool) {
        self.random = SeededGenerator(state: seed)
        self.fixtures = fixtures
        self.live = live
        for _ in 0..<64 {
            let tree = makePush()
            pushes.append((tree, tree.bytes()))
        }
    }

    mutating func next() -> FuzzRequest {
        var categories = FuzzCategory.allCases
        if live { categories.removeAll { $0 == .declaredLength } }
        let category = categories.randomElement(using: &random)!
        var request = make(category)
        if live {
            // Printable ASCII only: the HTTP parser refuses control characters and raw bytes
            request.headers = HTTPFields(
                request.headers.map { field in
                    let printable = field.value.unicodeScalars.map {
                        (0x20...0x7E).contains($0.value) ? Character($0) : "?"
                    }
                    return HTTPField(name: field.name, value: String(printable))
                })
        }
        return request
    }

    // MARK: Requests by category

    private mutating func make(_ category: FuzzCategory) -> FuzzRequest {
        switch category {
        case .garbageAuthorization:
            let method: HTTPRequest.Method = [.get, .post].randomElement(using: &random)!
            var request = FuzzRequest(
                category: category, method: method, uri: "/v1/changes",
                statuses: [401, 429], codes: ["unauthorized", "too_many_attempts"])
            request.headers = headers(token: nil, pool: .guessing)
            for value in garbageAuthorization() {
                request.headers.append(HTTPField(name: .authorization, value: value))
            }
            if method == .post { request.body = validPushBody(); request.headers[.contentType] = "application/json" }
            return request

        case .missingAuthorization:
            let (method, uri): (HTTPRequest.Method, String) =
                [(.get, "/v1/changes"), (.post, "/v1/changes"), (.get, "/metrics"), (.get, "/v1/changes?since=x")]
                .randomElement(using: &random)!
            var request = FuzzRequest(
                category: category, method: method, uri: uri, statuses: [401], codes: ["unauthorized"])
            request.headers = headers(token: nil)
            if method == .post { request.body = validPushBody(); request.headers[.contentType] = "application/json" }
            return request

        case .truncatedBody:
            let body = validPushBody()
            let cut = Int.random(in: 0..<body.count, using: &random)
            return push(category, Array(body.prefix(cut)), statuses: [400], codes: ["invalid_json"])

        case .invalidUTF8:
            var body = validPushBody()
            let bad: [[UInt8]] = [
                [0x80], [0xFF], [0xFE], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
                [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xE9],
                [0xF0, 0x9F, 0x98],
            ]
            body.insert(contentsOf: bad.randomElement(using: &random)!, at: insertionPoint(in: body))
            return push(category, body, statuses: [400], codes: ["invalid_json"])

        case .deepNesting:
            let depth = [33, 34, 40, 100, 513, 1_000, 5_000].randomElement(using: &random)!
            let deep = nested(depth)
            let tree = basePush()
            let paths = tree.paths()
            let body = tree.replacing(at: paths.randomElement(using: &random)!, with: deep).bytes()
            return push(category, body, statuses: [400], codes: ["too_deep"])

        case .wrongType:
            let tree = basePush()
            let path = tree.paths().randomElement(using: &random)!
            let node = tree.node(at: path)!
            var replacement = scalarOrContainer()
            while replacement.kind == node.kind { replacement = scalarOrContainer() }
            return push(
                category, tree.replacing(at: path, with: replacement).bytes(), statuses: [200, 400],
                codes: ["invalid_json"])

        case .hugeNumber:
            let tree = basePush()
            let literal = [
                "1e400", "-1e400", "1E+309", "123456789012345678901234567890", "-99999999999999999999", "1e-400",
                "9223372036854775808", "-9223372036854775809", "18446744073709551616", "0.1e999999999",
                String(repeating: "9", count: 400), "1" + String(repeating: "0", count: 5_000) + ".5",
            ].randomElement(using: &random)!
            let path = tree.paths().randomElement(using: &random)!
            let body = tree.replacing(at: path, with: .raw(literal)).bytes()
            return push(category, body, statuses: [200, 400], codes: ["invalid_json"])

        case .keyMutation:
            let tree = basePush()
            let objects = tree.paths().filter { if case .object = tree.node(at: $0)! { true } else { false } }
            let path = objects.randomElement(using: &random)!
            guard case .object(var members) = tree.node(at: path)! else { fatalError("not an object") }
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !members.isEmpty: members.remove(at: Int.random(in: 0..<members.count, using: &random))
            case 1 where !members.isEmpty: members.append(members.randomElement(using: &random)!)
            case 2 where !members.isEmpty:
                let index = Int.random(in: 0..<members.count, using: &random)
                members[index].0 = randomString(maxLength: 12)
            default: members.append((randomString(maxLength: 12), scalarOrContainer()))
            }
            let body = tree.replacing(at: path, with: .object(members)).bytes()
            return push(category, body, statuses: [200, 400], codes: ["invalid_json"])

        case .byteNoise:
            var body = validPushBody()
            for _ in 0..<Int.random(in: 1...6, using: &random) where !body.isEmpty {
                let index = Int.random(in: 0..<body.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: body[index] = UInt8.random(in: 0...255, using: &random)
                case 1: body.insert(UInt8.random(in: 0...255, using: &random), at: index)
                default: body.remove(at: index)
                }
            }
            return push(category, body, statuses: [200, 400], codes: ["invalid_json", "too_deep"])

        case .oversizeBody:
            let size = fixtures.limits.maxBodyBytes + Int.random(in: 1...30_000, using: &random)
            var body = Array(#"{"changes":[{"id":"a1-1","record":{"id":""#.utf8)
            if Bool.random(using: &random) {
                body += Array(repeating: UInt8(ascii: "x"), count: size)
            } else {
                // Noise: 256 random bytes over and over (random bytes one by one are slow in debug)
                let noise = (0..<256).map { _ in UInt8.random(in: 0...255, using: &random) }
                body = []
                body.reserveCapacity(size + 256)
                while body.count < size { body += noise }
            }
            return push(category, body, statuses: [413], codes: ["too_large"])

        case .declaredLength:
            let (method, uri) = anyRoute()
            var request = FuzzRequest(
                category: category, method: method, uri: uri, statuses: [413], codes: ["too_large"])
            request.headers = headers(token: "editor")
            if Bool.random(using: &random) {
                request.headers[.contentLength] = String(
                    UInt64.random(in: UInt64(fixtures.limits.maxBodyBytes + 1)...UInt64.max, using: &random))
            } else {
                request.headers[.contentLength] = ["-1", "abc", "", "1e9", "0x40", "12 34", "+5", "5, 5", "١٢"]
                    .randomElement(using: &random)!
                request.statuses = [400]
                request.codes = ["invalid_header"]
            }
            return request

        case .badContentType:
            var request = push(category, validPushBody(), statuses: [415], codes: ["unsupported_media_type"])
            let types = [
                nil, "", "text/plain", "application/jsonx", "application/json-patch+json", "text/json",
                "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "json", "*/*",
                randomString(maxLength: 30),
            ]
            request.headers[.contentType] = types.randomElement(using: &random)!
            if request.headers[.contentType] == "application/json" { request.statuses = [200] }
            if Bool.random(using: &random) {
                // The same type twice is not one type
                request.headers[.contentType] = nil
                request.headers.append(HTTPField(name: .contentType, value: "application/json"))
                request.headers.append(HTTPField(name: .contentType, value: "application/json"))
            }
            return request

        case .badContentEncoding:
            var request = push(category, validPushBody(), statuses: [415], codes: ["unsupported_encoding"])
            let encoding = ["br", "deflate", "compress", "zstd", "gzip, br", "x-gzip", randomToken()].randomElement(
                using: &random)!
            request.headers[.contentEncoding] = encoding
            if Bool.random(using: &random) {
                // Claims gzip, is not
                request.headers[.contentEncoding] = "gzip"
                request.statuses = [400]
                request.codes = ["invalid_encoding"]
            }
            return request

        case .batchTooLarge:
            var device = Device("b\(counter)")
            counter += 1
            let batch = fixtures.limits.maxBatchSize
            let changes = (0..<Int.random(in: batch + 1...batch * 2, using: &random)).map { _ in
                device.change(RecordID.random(), .story, ["title": "t"])
            }
            return push(category, encode(PushRequest(changes: changes)), statuses: [413], codes: ["batch_too_large"])

        case .badQuery:
            let query = (0..<Int.random(in: 1...3, using: &random)).map { _ in queryItem() }.joined(separator: "&")
            var request = FuzzRequest(
                category: category, method: .get, uri: "/v1/changes?" + query, statuses: [200, 400, 410],
                codes: ["invalid_cursor", "invalid_limit", "invalid_wait", "cursor_expired"])
            request.headers = headers(token: ["editor", "reader", "field", "admin"].randomElement(using: &random)!)
            return request

        case .badMethod:
            // Standard methods a path does not take are 405 with its methods in Allow; methods
            // no one has standardised are no route at all
            var methods: [HTTPRequest.Method] = [.put, .patch, .delete, .head, .options, .trace]
            if !live {
                methods += [.connect] + ["FOO", "PROPFIND", "get", "Post", "X-HAVEN"].map { HTTPRequest.Method($0)! }
            }
            let method = methods.randomElement(using: &random)!
            let (uri, allow) = [
                ("/healthz", "GET"), ("/v1/changes", "GET, POST"), ("/metrics", "GET"),
                ("/v1/changes?since=abc", "GET, POST"),
            ].randomElement(using: &random)!
            var request = FuzzRequest(
                category: category, method: method, uri: uri, statuses: [405], codes: ["method_not_allowed"])
            request.allow = allow
            if method.rawValue.uppercased() != method.rawValue || !Self.standardMethods.contains(method) {
                request.statuses = [404]
                request.codes = ["not_found"]
                request.allow = nil
            }
            request.headers = headers(token: "admin")
            // Over a socket, a TRACE with a body makes the HTTP parser close the connection
            if !live, Bool.random(using: &random) { request.body = validPushBody() }
            return request

        case .badPath:
            var paths = [
                "/v1/changes/x", "/v1", "/v1/", "/v2/changes", "/V1/CHANGES", "/v1/changes%2F", "/%00",
                "/..%2f..%2fetc",
                "/healthz/extra", "/metrics/x", "/v1/changes/../changes/x", "/" + String(repeating: "a", count: 5_000),
                "/v1/%E2%82%AC", "/v1/changes;jsessionid=1", "/*", "/v1/*/x",
            ]
            if !live { paths += ["/v1/chänges", "/v1/ changes", "/\u{0}"] }
            var request = FuzzRequest(
                category: category, method: [.get, .post].randomElement(using: &random)!,
                uri: paths.randomElement(using: &random)!, statuses: [404], codes: ["not_found"])
            request.headers = headers(token: "editor")
            return request

        case .extraHeaders:
            // A valid pull or push, with headers it does not need
            var request =
                Bool.random(using: &random)
                ? FuzzRequest(category: category, method: .get, uri: "/v1/changes", statuses: [200])
                : push(category, validPushBody(), statuses: [200])
            request.headers = headers(token: "editor", pool: .quiet, into: request.headers)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let (name, value) = extraHeader()
                request.headers.append(HTTPField(name: name, value: value))
            }
            return request

        case .badContent:
            let (changes, code) = badChanges()
            return push(
                category, encode(PushRequest(changes: changes)), statuses: [200], rejection: code,
                token: code == "forbidden" ? "field" : "editor")

        case .readerPush:
            return push(category, validPushBody(), statuses: [403], codes: ["forbidden"], token: "reader")

        case .valid:
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                return FuzzRequest(category: category, method: .get, uri: "/healthz", statuses: [200])
            case 1:
                return push(
                    category, validPushBody(), statuses: [200],
                    token: ["admin", "editor"].randomElement(using: &random)!)
            default:
                let since = "\(fixtures.epoch).\(Int.random(in: 0...3, using: &random))"
                let limit = Int.random(in: 1...fixtures.limits.pageLimit, using: &random)
                var request = FuzzRequest(
                    category: category, method: .get, uri: "/v1/changes?since=\(since)&limit=\(limit)",
                    statuses: [200, 410], codes: ["cursor_expired"])
                request.headers = headers(token: ["admin", "editor", "field", "reader"].randomElement(using: &random)!)
                return request
            }
        }
    }

    // MARK: Building blocks

    /// Client addresses: guesses come from one pool, everything else from another, so that
    /// throttling answers only the guessing requests.
    enum AddressPool { case guessing, quiet }

    private mutating func headers(token: String?, pool: AddressPool = .quiet, into base: HTTPFields = [:]) -> HTTPFields
    {
        var headers = base
        // Few guessing addresses, so they reach the failure limit; many quiet ones
        headers[HTTPField.Name("X-Forwarded-For")!] =
            pool == .guessing
            ? "10.9.0.\(Int.random(in: 0..<6, using: &random))"
            : "10.20.\(Int.random(in: 0..<4, using: &random)).\(Int.random(in: 0..<60, using: &random))"
        if let token { headers[.authorization] = "Bearer \(fixtures.secrets[token]!)" }
        return headers
    }

    private mutating func push(
        _ category: FuzzCategory, _ body: [UInt8], statuses: Set<Int>, codes: Set<String>? = nil,
        rejection: String? = nil,
        token: String = "editor"
    ) -> FuzzRequest {
        var request = FuzzRequest(
            category: category, method: .post, uri: "/v1/changes", body: body, statuses: statuses, codes: codes,
            rejection: rejection)
        request.headers = headers(token: token)
        request.headers[.contentType] = ["application/json", "application/json; charset=utf-8"].randomElement(
            using: &random)!
        return request
    }

    /// Any route the server has, with any of its methods.
    private mutating func anyRoute() -> (HTTPRequest.Method, String) {
        [
            (.get, "/v1/changes"), (.post, "/v1/changes"), (.get, "/healthz"), (.get, "/metrics"),
            (.put, "/v1/changes"),
            (.delete, "/nowhere"),
        ].randomElement(using: &random)!
    }

    /// A push of one to three new records, as a tree: stories with text in several scripts,
    /// resources, some with a base cursor and a `deleted` register.
    private mutating func basePush() -> JSONNode {
        pushes.randomElement(using: &random)!.tree
    }

    private mutating func validPushBody() -> [UInt8] { pushes.randomElement(using: &random)!.bytes }

    private mutating func makePush() -> JSONNode {
        var device = Device("f\(counter)")
        counter += 1
        let titles = ["Flood at the river", "홍수", "Наводнение", "فيضان", "洪水 🌊", "Quote \" and \\ slash"]
        let changes = (0..<Int.random(in: 1...3, using: &random)).map { _ in
            let base = Bool.random(using: &random) ? SyncCursor(epoch: fixtures.epoch, seq: 0) : nil
            return Bool.random(using: &random)
                ? device.change(
                    RecordID.random(), .story, Fields.story(titles.randomElement(using: &random)!), base: base)
                : device.change(RecordID.random(), .resource, Fields.resource("Clinic"), deleted: false, base: base)
        }
        return JSONNode(encode(PushRequest(changes: changes)))
    }

    /// A place to insert bytes: inside a string when there is one.
    private mutating func insertionPoint(in body: [UInt8]) -> Int {
        let quotes = body.indices.filter { body[$0] == UInt8(ascii: "\"") }
        guard let quote = quotes.randomElement(using: &random) else { return 0 }
        return quote + 1
    }

    /// Arrays and objects nested `depth` deep, as literal text: a tree that deep would take more
    /// stack to write than a test task has.
    private func nested(_ depth: Int) -> JSONNode {
        let opening = (0..<depth).map { $0.isMultiple(of: 2) ? "[" : #"{"a":"# }.joined()
        let closing = (0..<depth).reversed().map { $0.isMultiple(of: 2) ? "]" : "}" }.joined()
        return .raw(opening + "1" + closing)
    }

    /// A value of any JSON type, shallow.
    private mutating func scalarOrContainer() -> JSONNode {
        switch Int.random(in: 0..<9, using: &random) {
        case 0: .raw("null")
        case 1: .raw(Bool.random(using: &random) ? "true" : "false")
        case 2: .raw(String(Int64.random(in: .min ... .max, using: &random)))
        case 3: .raw(String(Double.random(in: -1e6...1e6, using: &random)))
        case 4: .string(randomString(maxLength: 40))
        case 5: .array([])
        case 6: .array([.raw("1"), .string("x")])
        case 7: .object([])
        default: .object([("value", .raw("1")), ("stamp", .string("0"))])
        }
    }

    private mutating func randomString(maxLength: Int) -> String {
        let pieces = ["a", "Z", "0", "-", " ", "é", "한", "😀", "\\", "\"", "\n", "\u{0}", "\u{7F}", "/", ".", "%"]
        return (0..<Int.random(in: 0...maxLength, using: &random)).map { _ in pieces.randomElement(using: &random)! }
            .joined()
    }

    private mutating func randomToken() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-")
        return String((0..<Int.random(in: 1...12, using: &random)).map { _ in letters.randomElement(using: &random)! })
    }

    /// One or two `Authorization` values that no token matches.
    private mutating func garbageAuthorization() -> [String] {
        let secret = fixtures.secrets["editor"]!
        let values = [
            "Bearer", "Bearer ", "Bearer  ", "bearer", "Basic dXNlcjpwYXNz", "Token \(secret)", "Bearer \(secret)x",
            "Bearer " + String(secret.dropLast()), "Bearer " + String(repeating: "A", count: 2_000),
            "Bearer hvn_" + randomToken(), "Bearer \(secret.uppercased())", randomString(maxLength: 60),
            "Bearer " + randomString(maxLength: 60), "Bearer \(fixtures.secrets["expired"]!)",
            "Bearer \(fixtures.secrets["revoked"]!)", "Bearer\t\(secret)",
        ]
        // Two headers, even with a valid token in one of them, are not one token
        if Int.random(in: 0..<8, using: &random) == 0 { return ["Bearer \(secret)", "Bearer \(secret)"] }
        return [values.randomElement(using: &random)!]
    }

    /// A query item that is wrong in some way, or merely unknown (but never a real wait).
    private mutating func queryItem() -> String {
        let epoch = fixtures.epoch
        return [
            "since=garbage", "since=\(epoch)", "since=\(epoch).", "since=\(epoch).-1",
            "since=\(epoch).99999999999999999999",
            "since=\(epoch).1.2", "since=0123456789abcdef.1", "since=\(epoch.uppercased()).1", "since=%ZZ", "since=%00",
            "since=\(epoch).9223372036854775807", "since=..", "since=" + String(repeating: "f", count: 300) + ".1",
            "limit=0", "limit=-1", "limit=\(fixtures.limits.pageLimit + 1)", "limit=abc", "limit=1e3",
            "limit=99999999999999999999", "limit=",
            "limit=%31", "wait=-1", "wait=61", "wait=nan", "wait=inf", "wait=1e400", "wait=abc", "wait=-0", "wait=0",
            "wait=", "&&", "=", "since", "unknown=1", "since=a&since=b", "%E2%82%AC=%E2%82%AC",
            "since=" + randomString(maxLength: 20).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
        ].randomElement(using: &random)!
    }

    /// A header a valid request does not need.
    private mutating func extraHeader() -> (HTTPField.Name, String) {
        var choices: [(HTTPField.Name, String)] = [
            (
                .acceptEncoding,
                ["gzip;q=abc", "*;q=0", "identity", "br", "gzip;q=0", "", "gzip, gzip"].randomElement(using: &random)!
            ),
            (.accept, ["text/html", "*/*", "application/xml", "", "🙂"].randomElement(using: &random)!),
            (.userAgent, String(repeating: "u", count: 8_000)),
            (.cookie, "a=b; c=d"),
            (
                HTTPField.Name("X-Forwarded-For")!,
                ["not an ip", "", ",,,", "999.1.1.1", "::ffff:zz"].randomElement(using: &random)!
            ),
            (HTTPField.Name("X-Haven-Server-Time")!, "-1"),
            (HTTPField.Name("X-\(randomToken())")!, randomString(maxLength: 30)),
            (.expect, "100-continue"),
            (.acceptLanguage, "ko, en;q=0.5"),
        ]
        if !live { choices.append((.transferEncoding, "chunked")) }
        return choices.randomElement(using: &random)!
    }

    /// Changes of valid JSON that the server must reject one by one, with the code they share
    /// ("" when the code depends on the field).
    private mutating func badChanges() -> ([Change], String) {
        var device = Device("c\(counter)")
        counter += 1
        let count = Int.random(in: 1...4, using: &random)
        let stamp = device.clock.now()
        func state(_ fields: [String: JSONValue], id: String = RecordID.random(), kind: RecordKind = .story)
            -> RecordState
        {
            RecordState(id: id, kind: kind, fields: fields.mapValues { Register($0, stamp: stamp) })
        }
        switch Int.random(in: 0..<8, using: &random) {
        case 0:
            let ids = ["", "UPPER-1", "has space", "ü-1", String(repeating: "a", count: 101), "a_1", "a1/2"]
            return (
                (0..<count).map { _ in
                    Change(id: ids.randomElement(using: &random)!, base: nil, record: state(Fields.story("T")))
                }, "invalid_change"
            )
        case 1:
            let ids = [
                "", "x", "0C8B7A3E-5D2F-4E1A-9B6C-7D8E9F0A1B2C", String(repeating: "0", count: 36), "../etc", "🙂",
            ]
            return (
                (0..<count).map { index in
                    Change(
                        id: "c\(counter)-x\(index)", base: nil,
                        record: state(Fields.story("T"), id: ids.randomElement(using: &random)!))
                }, "invalid_record"
            )
        case 2:
            return (
                (0..<count).map { index in Change(id: "c\(counter)-e\(index)", base: nil, record: state([:])) },
                "empty_change"
            )
        case 3:
            var ahead = Device("z\(counter)", wallTime: TestServer.now + 24 * 3_600_000)
            return (
                (0..<count).map { _ in ahead.change(RecordID.random(), .story, Fields.story("Future")) }, "clock_ahead"
            )
        case 4:
            var fields = Fields.story("Long")
            fields["body"] = .string(String(repeating: "x", count: fixtures.limits.maxRecordBytes))
            return ((0..<count).map { _ in device.change(RecordID.random(), .story, fields) }, "record_too_large")
        case 5:
            return (
                (0..<count).map { _ in device.change(RecordID.random(), .resource, Fields.resource("Clinic")) },
                "forbidden"
            )
        case 6:
            let values: [JSONValue] = [5, true, .null, .array([1]), .object(["a": 1]), .double(1.5)]
            return (
                (0..<count).map { _ in
                    device.change(
                        RecordID.random(), .story, ["title": values.randomElement(using: &random)!, "status": "draft"])
                }, ""
            )
        default:
            let values: [JSONValue] = ["yes", 1, .null, .array([]), .object([:])]
            return (
                (0..<count).map { index in
                    Change(
                        id: "c\(counter)-d\(index)", base: nil,
                        record: RecordState(
                            id: RecordID.random(), kind: .story,
                            fields: Fields.story("T").mapValues { Register($0, stamp: stamp) },
                            deleted: Register(values.randomElement(using: &random)!, stamp: stamp)))
                }, "invalid_field"
            )
        }
    }

    private func encode(_ push: PushRequest) -> [UInt8] {
        Array(try! JSONEncoder().encode(push))
    }
}

// MARK: - A JSON tree that can hold what JSON values cannot

/// JSON as written: numbers as their literal text (so `1e400` can be sent), objects as ordered
/// members (so keys can repeat), strings as Swift strings escaped on the way out.
indirect enum JSONNode {
    case raw(String)
    case string(String)
    case array([JSONNode])
    case object([(String, JSONNode)])

    enum Step { case index(Int), key(Int) }

    /// Parses valid JSON bytes; keys sorted so a seed makes the same tree everywhere.
    init(_ bytes: [UInt8]) {
        self.init(try! JSONDecoder().decode(JSONValue.self, from: Data(bytes)))
    }

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .raw("null")
        case .bool(let value): self = .raw(value ? "true" : "false")
        case .int(let value): self = .raw(String(value))
        case .double(let value): self = .raw(String(value))
        case .string(let value): self = .string(value)
        case .array(let items): self = .array(items.map(JSONNode.init))
        case .object(let members):
            self = .object(members.sorted { $0.key < $1.key }.map { ($0.key, JSONNode($0.value)) })
        }
    }

    /// What kind of value this is, to pick a different one.
    var kind: Int {
        switch self {
        case .raw(let text): text == "null" ? 0 : (text == "true" || text == "false") ? 1 : 2
        case .string: 3
        case .array: 4
        case .object: 5
        }
    }

    /// The path of every node, the root included.
    func paths() -> [[Step]] {
        var result: [[Step]] = [[]]
        switch self {
        case .array(let items):
            for (index, item) in items.enumerated() { result += item.paths().map { [.index(index)] + $0 } }
        case .object(let members):
            for (index, member) in members.enumerated() { result += member.1.paths().map { [.key(index)] + $0 } }
        default:
            break
        }
        return result
    }

    func node(at path: [Step]) -> JSONNode? {
        guard let step = path.first else { return self }
        switch (self, step) {
        case (.array(let items), .index(let index)): return items[index].node(at: Array(path.dropFirst()))
        case (.object(let members), .key(let index)): return members[index].1.node(at: Array(path.dropFirst()))
        default: return nil
        }
    }

    func replacing(at path: [Step], with replacement: JSONNode) -> JSONNode {
        guard let step = path.first else { return replacement }
        switch (self, step) {
        case (.array(var items), .index(let index)):
            items[index] = items[index].replacing(at: Array(path.dropFirst()), with: replacement)
            return .array(items)
        case (.object(var members), .key(let index)):
            members[index].1 = members[index].1.replacing(at: Array(path.dropFirst()), with: replacement)
            return .object(members)
        default:
            return self
        }
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .raw(let text):
            out += Array(text.utf8)
        case .string(let text):
            Self.writeString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.0, to: &out)
                out.append(UInt8(ascii: ":"))
                member.1.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
