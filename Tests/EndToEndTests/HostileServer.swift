import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A loopback HTTP server that answers whatever a test scripts: the hostile or broken server of
/// DESIGN §7, for driving the real `haven` against answers no Haven server gives (redirects,
/// huge pages, gzip bombs, mislabelled bodies, cursors that do not move, records the schema
/// forbids).
///
/// Every request is recorded with its headers and body, and answered by the test's script. A
/// streamed answer is written chunk by chunk; one that holds open never ends (until the server
/// stops), so that only a client that decides while reading can finish at all.
///
/// For example:
/// ```swift
/// try await HostileServer.run({ request in .json(#"{"cursor":"ab.1","more":true,"serverTime":1}"#) }) { server in
///     // … run haven against server.url, then read server.requests
/// }
/// ```
final class HostileServer: Sendable {
    /// A request as it arrived.
    struct Request: Sendable {
        /// How many requests arrived before this one.
        var index: Int
        var method: String
        /// The path and query.
        var target: String
        /// Header fields, names in lowercase.
        var headers: [String: String]
        var body: Data

        var isPull: Bool { method == "GET" && target.hasPrefix("/v1/changes") }
        var isPush: Bool { method == "POST" && target.hasPrefix("/v1/changes") }
    }

    /// What to answer.
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        /// When set, `body` is followed by this chunk, `count` times, then by `tail`; the declared
        /// `Content-Length` is the whole, as an honest server would send it.
        var repeated: (chunk: Data, count: Int, tail: Data)?
        /// False sends a streamed answer without `Content-Length` (chunked), as a server that
        /// does not say how much is coming.
        var declaresLength = true
        /// True holds a streamed answer open after its repeated chunks, never sending the tail.
        var holdsOpen = false

        init(
            status: Int = 200, headers: [String: String] = [:], body: Data = Data(),
            repeated: (chunk: Data, count: Int, tail: Data)? = nil, declaresLength: Bool = true, holdsOpen: Bool = false
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.repeated = repeated
            self.declaresLength = declaresLength
            self.holdsOpen = holdsOpen
        }

        /// A 200 with a JSON body.
        static func json(_ text: String, headers: [String: String] = [:]) -> Answer {
            Answer(headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Data(text.utf8))
        }

        /// Bytes in the whole body.
        var length: Int { body.count + (repeated.map { $0.chunk.count * $0.count + $0.tail.count } ?? 0) }
    }

    typealias Script = @Sendable (Request) -> Answer

    private let script: Script
    private let log = Mutex<[Request]>([])
    /// Ends when the server stops: what an answer that holds open waits for.
    private let stopping = AsyncStream<Void>.makeStream()
    private let address = Mutex("")

    private init(script: @escaping Script) { self.script = script }

    /// `http://127.0.0.1:PORT`.
    var url: String { address.withLock { $0 } }
    /// The requests received so far, in order.
    var requests: [Request] { log.withLock { $0 } }

    /// Runs `body` while a server answering as `script` says listens on a free loopback port.
    static func run(_ script: @escaping Script, _ body: @Sendable (HostileServer) async throws -> Void) async throws {
        let server = HostileServer(script: script)
        let app = Application(responder: Responder(server: server))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            server.address.withLock { $0 = "http://127.0.0.1:\(port)" }
            defer { server.stopping.continuation.finish() }
            try await body(server)
        }
    }

    private struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let server: HostileServer

        func respond(to request: Hummingbird.Request, context: Context) async throws -> Response {
            let body = try await request.body.collect(upTo: 64 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let recorded = server.log.withLock { log in
                log.append(
                    Request(
                        index: log.count, method: request.method.rawValue, target: request.uri.description,
                        headers: headers, body: Data(body.readableBytesView)))
                return log[log.count - 1]
            }
            let answer = server.script(recorded)
            var fields = HTTPFields()
            for (name, value) in answer.headers { fields[HTTPField.Name(name)!] = value }
            if answer.declaresLength { fields[.contentLength] = String(answer.length) }
            let status = HTTPResponse.Status(code: answer.status)
            guard let repeated = answer.repeated else {
                return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
            let server = self.server
            return Response(
                status: status, headers: fields,
                body: ResponseBody(contentLength: answer.declaresLength ? answer.length : nil) { writer in
                    try await writer.write(ByteBuffer(bytes: answer.body))
                    let chunk = ByteBuffer(bytes: repeated.chunk)
                    for _ in 0..<repeated.count { try await writer.write(chunk) }
                    if answer.holdsOpen {
                        for await _ in server.stopping.stream {}
                        return
                    }
                    try await writer.write(ByteBuffer(bytes: repeated.tail))
                    try await writer.finish(nil)
                })
        }
    }
}
