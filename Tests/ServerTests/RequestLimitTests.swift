import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import HavenServer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct RequestLimitTests {
    // MARK: Body size

    @Test(arguments: ["1048577", "10000000000", "99999999999999999999999999"])
    func declaredLengthAboveTheLimitIsRefusedUnread(_ length: String) async throws {
        // Given a server that takes bodies of at most 1 MiB
        let server = try await TestServer.make(configuration: ServerConfiguration(maxBodyBytes: 1 << 20))
        try await server.test { client in
            // When a push declares a larger body and sends none of it
            let response = try await client.execute(
                uri: "/v1/changes", method: .post,
                headers: [
                    .authorization: "Bearer \(server["editor"])", .contentType: "application/json",
                    .contentLength: length,
                ])

            // Then the answer is 413 from the header alone
            #expect(response.status == .contentTooLarge)
            #expect(
                try response.error()
                    == ErrorDetail(
                        code: .tooLarge, message: "Content-Length: \(length.prefix(40)) bytes, at most 1048576"))
        }
    }

    @Test func declaredLengthIsCheckedBeforeAuthenticationAndOnEveryRoute() async throws {
        let server = try await TestServer.make(configuration: ServerConfiguration(maxBodyBytes: 1_000))
        try await server.test { client in
            for (uri, method) in [("/v1/changes", HTTPRequest.Method.get), ("/healthz", .get), ("/nowhere", .put)] {
                let response = try await client.execute(uri: uri, method: method, headers: [.contentLength: "1001"])
                #expect(response.status == .contentTooLarge, "\(method) \(uri)")
                #expect(try response.error().code == .tooLarge)
            }
        }
    }

    @Test(arguments: ["", "-1", "12abc", "1e3", "+12", "5, 5", "0x10", "١٢"])
    func unreadableContentLengthIsABadRequest(_ length: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/changes", method: .post,
                headers: [
                    .authorization: "Bearer \(server["editor"])", .contentType: "application/json",
                    .contentLength: length,
                ])

            #expect(response.status == .badRequest)
            let error = try response.error()
            #expect(error.code == .invalidHeader)
            #expect(error.message.hasPrefix("Content-Length: '"))
        }
    }

    @Test func declaredLengthAboveTheLimitIsAnsweredOverASocketWithoutWaitingForTheBody() async throws {
        // Given a live server that takes bodies of at most 1 MiB
        let server = try await TestServer.make(configuration: ServerConfiguration(port: 0, maxBodyBytes: 1 << 20))
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let now = server.now
        let app = try buildApplication(
            store: try await server.openStore(), configuration: server.configuration, logger: logger, clock: { now })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // When a client claims a 1 GB body and sends ten bytes of it
            let head =
                "POST /v1/changes HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(server["editor"])\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"changes\""
            let answer = try await RawHTTP.exchange(port: port, bytes: Array(head.utf8), timeout: 10)

            // Then the 413 arrives at once: the server did not wait for the rest of the body
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
            let body = try #require(answer.range(of: "\r\n\r\n")).upperBound
            #expect(
                try JSONDecoder().decode(ErrorBody.self, from: Data(answer[body...].utf8)).error
                    == ErrorDetail(code: .tooLarge, message: "Content-Length: 1000000000 bytes, at most 1048576"))
        }
    }

    // MARK: Nesting and UTF-8

    /// A push of one story whose `tags` register holds a value nested `depth` levels deep.
    /// The push itself nests 6 levels around that value.
    static func pushNesting(_ depth: Int) -> Data {
        let value = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        let fields = #""title":{"value":"Deep","stamp":"\#(stamp)"},"tags":{"value":\#(value),"stamp":"\#(stamp)"}"#
        return Data(pushBody(fieldJSON: fields).utf8)
    }

    static let stamp = Timestamp(physical: TestServer.now, counter: 0, replica: ReplicaID("a1")!).description

    /// A push body of one new story with the given `fields` members, as raw JSON.
    static func pushBody(fieldJSON: String, changeID: String = "a1-1") -> String {
        let record = #"{"id":"\#(RecordID.random())","kind":"story","fields":{\#(fieldJSON)}}"#
        return #"{"changes":[{"id":"\#(changeID)","record":\#(record)}]}"#
    }

    @Test(arguments: [(26, true), (27, false), (200, false), (100_000, false)])
    func nestingIsLimitedBeforeDecoding(_ valueDepth: Int, _ accepted: Bool) async throws {
        // Given the default nesting limit of 32; the push around the value takes 6 of it
        let server = try await TestServer.make()
        try await server.test { client in
            // When an editor pushes a value nested `valueDepth` deep
            let response = try await client.post(
                "/v1/changes", token: server["editor"], body: Self.pushNesting(valueDepth))

            if accepted {
                // Then at the limit it reaches the decoder and the schema (tags must be strings)
                #expect(response.status == .ok, "\(response.text)")
                #expect(try response.decode(PushResponse.self).results.first?.status == .rejected)
            } else {
                // Then beyond it the body is refused before decoding, naming where
                #expect(response.status == .badRequest)
                let error = try response.error()
                #expect(error.code == .tooDeep)
                #expect(error.message.hasPrefix("body: arrays and objects nest deeper than 32 levels at byte "))
            }
        }
    }

    @Test func nestingLimitIsConfigurable() async throws {
        var configuration = ServerConfiguration()
        configuration.maxNestingDepth = 8
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            let response = try await client.post("/v1/changes", token: server["editor"], body: Self.pushNesting(3))
            #expect(response.status == .badRequest)
            #expect(try response.error().message.contains("deeper than 8 levels"))
        }
    }

    /// Invalid UTF-8 sequences, each put inside the title string.
    static let invalidUTF8: [(String, [UInt8])] = [
        ("lone continuation byte", [0x80]),
        ("0xFF", [0xFF]),
        ("overlong slash", [0xC0, 0xAF]),
        ("overlong three-byte", [0xE0, 0x80, 0xAF]),
        ("UTF-16 surrogate", [0xED, 0xA0, 0x80]),
        ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
        ("truncated sequence", [0xE2, 0x82]),
        ("Latin-1 é", [0xE9]),
    ]

    @Test(arguments: invalidUTF8)
    func invalidUTF8IsABadRequest(_ label: String, _ bytes: [UInt8]) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a push whose title holds `bytes` after 61 bytes of JSON
            let prefix =
                Array(#"{"changes":[{"id":"a1-1","record":{"id":"x","kind":"story","#.utf8)
                + Array(#""fields":{"title":{"value":"ab"#.utf8)
            let suffix = Array(#"cd","stamp":"\#(Self.stamp)"}}}}]}"#.utf8)
            let body = Data(prefix + bytes + suffix)

            // When it is pushed
            let response = try await client.post("/v1/changes", token: server["editor"], body: body)

            // Then it is refused, naming the offset of the first bad byte
            #expect(response.status == .badRequest, "\(label)")
            #expect(
                try response.error()
                    == ErrorDetail(code: .invalidJSON, message: "body: invalid UTF-8 at byte \(prefix.count)"))
        }
    }

    // MARK: The preflight scan

    /// Bodies and what the scan finds with a depth limit of 2.
    static let scans: [(String, [UInt8], JSONPreflight?)] = [
        ("flat", Array(#"{"a":[1]}"#.utf8), nil),
        ("third level", Array(#"{"a":[[1]]}"#.utf8), .tooDeep(offset: 6, maxDepth: 2)),
        ("brackets in a string", Array(#"{"a":"[[[{{{"}"#.utf8), nil),
        ("escaped quote keeps the string open", Array(#"{"a":"\"[[["}"#.utf8), nil),
        ("escaped backslash closes it", Array(#"{"a":["\\",[1]]}"#.utf8), .tooDeep(offset: 11, maxDepth: 2)),
        ("multi-byte characters", Array(#"{"é€😀":["ü"]}"#.utf8), nil),
        ("invalid byte in a key", [0x7B, 0x22, 0xC3, 0x28, 0x22], .invalidUTF8(offset: 2)),
        ("invalid byte outside strings", [0x5B, 0xFE, 0x5D], .invalidUTF8(offset: 1)),
        ("stray closers do not buy depth", Array("]]]]][[[".utf8), .tooDeep(offset: 7, maxDepth: 2)),
    ]

    @Test(arguments: scans)
    func preflightScan(_ label: String, _ bytes: [UInt8], _ expected: JSONPreflight?) {
        let found = bytes.withUnsafeBytes { JSONPreflight.problem(in: $0, maxDepth: 2) }
        #expect(found == expected, "\(label)")
    }

    // MARK: Record size

    @Test func aChangeAboveTheRecordLimitIsRejectedAlone() async throws {
        // Given a server that takes changes of at most 4 KiB
        var configuration = ServerConfiguration()
        configuration.maxRecordBytes = 4_096
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            // When an editor pushes a small story, a 10 KB one and another small one
            var device = Device("a1")
            var big = Fields.story("Big")
            big["body"] = .string(String(repeating: "A long testimony. ", count: 600))
            let changes = [
                device.change(RecordID.random(), .story, Fields.story("First")),
                device.change(RecordID.random(), .story, big),
                device.change(RecordID.random(), .story, Fields.story("Third")),
            ]
            let size = try JSONEncoder().encode(changes[1]).count
            let answer = try await client.push(changes, token: server["editor"])

            // Then only the big one is rejected, naming its size and the limit
            #expect(answer.statuses == [.applied, .rejected, .applied])
            #expect(answer.results.map(\.id) == changes.map(\.id))
            #expect(
                answer.results[1].error
                    == ErrorDetail(
                        code: .recordTooLarge,
                        message: "change a1-2: record \(changes[1].record.id) is \(size) bytes, at most 4096"))
            let pulled = try await client.pull(token: server["editor"])
            #expect(Set(pulled.changes.map(\.id)) == [changes[0].record.id, changes[2].record.id])
        }
    }

    // MARK: Numbers

    /// Number literals no Swift number holds exactly, and what becomes of them: beyond `Double`
    /// they are not JSON values the server can keep (400); otherwise they are kept as the nearest
    /// `Double`, so a story with one in an unknown field is applied and a title is rejected.
    static let hugeNumbers: [(String, fits: Bool)] = [
        ("1e400", false), ("-1e400", false), ("1E+309", false), ("123456789012345678901234567890", true),
        ("-99999999999999999999999", true), ("1e-400", true), ("0.0000000000000000000000000000000000000000001", true),
        ("1E+308", true), ("18446744073709551616", true), ("9223372036854775808", true),
    ]

    @Test(arguments: hugeNumbers, ["title", "extra"])
    func numbersThatDoNotFitNeverCrash(_ number: (literal: String, fits: Bool), _ field: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Given a new, complete story whose `field` register holds the literal
            var device = Device("a1")
            var fields = Fields.story("Numbers")
            fields[field] = nil
            let id = RecordID.random()
            let encoded = String(
                decoding: try JSONEncoder().encode(PushRequest(changes: [device.change(id, .story, fields)])),
                as: UTF8.self)
            let register = #""\#(field)":{"value":\#(number.literal),"stamp":"\#(Self.stamp)"},"#
            let body = encoded.replacingOccurrences(of: #""fields":{"#, with: #""fields":{"# + register)

            // When an editor pushes it
            let response = try await client.post("/v1/changes", token: server["editor"], body: Data(body.utf8))

            // Then a number beyond Double is a 400 naming where it is; any other is judged with
            // its change: never a server error
            if !number.fits {
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(
                    try response.error()
                        == ErrorDetail(
                            code: .invalidJSON,
                            message: "body: changes[0].record.fields.\(field).value: not a JSON value"))
            } else if field == "title" {
                let answer = try response.decode(PushResponse.self)
                #expect(answer.statuses == [.rejected])
                #expect(answer.results.first?.error?.code == .invalidField)
            } else {
                #expect(try response.decode(PushResponse.self).statuses == [.applied])
                // And the stored number comes back as the nearest Double (or the integer it equals)
                let pulled = try await client.pull(token: server["editor"])
                #expect(pulled.byID[id]?.fields["extra"]?.value == .double(Double(number.literal)!))
            }
        }
    }

    // MARK: Content type

    @Test(arguments: ["application/jsonx", "application/json-patch+json", "text/json", "application/json, text/plain"])
    func onlyJSONItselfIsAccepted(_ contentType: String) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.post(
                "/v1/changes", token: server["editor"], body: Data(#"{"changes":[]}"#.utf8), contentType: contentType)

            #expect(response.status == .unsupportedMediaType)
            #expect(
                try response.error()
                    == ErrorDetail(
                        code: .unsupportedMediaType,
                        message: "Content-Type must be application/json, not '\(contentType)'"))
        }
    }
}

/// One HTTP/1.1 exchange over a bare socket, for requests a client library will not send
/// (a declared length the body never reaches).
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `bytes` to `127.0.0.1:port` and returns what comes back until the server closes or
    /// a complete response (by its `Content-Length`) has arrived.
    ///
    /// The socket calls block, so they run on a thread of their own: on one of the few threads
    /// that run async code they could hold up the very server they wait for.
    ///
    /// - Throws: when the connection fails or nothing complete arrives within `timeout` seconds.
    static func exchange(port: Int, bytes: [UInt8], timeout: Int) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, bytes: bytes, timeout: timeout) })
            }.start()
        }
    }

    private static func blockingExchange(port: Int, bytes: [UInt8], timeout: Int) throws -> String {
        #if canImport(Darwin)
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #else
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed: errno \(errno)") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw Failure(description: "send() sent \(sent) of \(bytes.count) bytes") }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while !isComplete(String(decoding: received, as: UTF8.self)) {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "no complete response within \(timeout) s") }
            received += chunk[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether `text` holds a whole response: its head and `Content-Length` bytes of body.
    private static func isComplete(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return true }
        return text[end.upperBound...].utf8.count >= length
    }
}
