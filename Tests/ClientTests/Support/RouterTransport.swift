import Foundation
import HTTPTypes
import HavenCore
import HummingbirdTesting
import NIOCore
import Synchronization

@testable import HavenClient

/// The client's link to an ``InProcessServer``: each request goes through the real router as
/// the client made it, and each answer comes back as URLSession hands it over (inflated if it
/// came gzipped, its `Content-Length` as on the wire). Every exchange is kept, so that a test
/// can check what the server received and what it answered.
final class RouterTransport: HTTPTransport {
    /// A request the server received, and its answer.
    struct Exchange: Sendable {
        var request: HavenClient.HTTPRequest
        var response: HavenClient.HTTPResponse
    }

    private let client: any TestClientProtocol
    private let kept = Mutex<[Exchange]>([])

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// Every exchange, in order.
    var exchanges: [Exchange] { kept.withLock { $0 } }

    func send(_ request: HavenClient.HTTPRequest) async throws -> HavenClient.HTTPResponse {
        guard let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false),
            let method = HTTPTypes.HTTPRequest.Method(request.method)
        else { throw URLError(.badURL) }
        var headers = HTTPFields()
        for (name, value) in request.headers {
            guard let name = HTTPField.Name(name) else { throw URLError(.badURL) }
            headers[name] = value
        }
        if let body = request.body { headers[.contentLength] = String(body.count) }
        let answer = try await client.execute(
            uri: components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? ""),
            method: method, headers: headers, body: request.body.map { ByteBuffer(bytes: $0) })
        let wire = Data(answer.body.readableBytesView)
        var fields = ["content-length": String(wire.count)]
        for field in answer.headers { fields[field.name.canonicalName] = field.value }
        // Decoded as the client's own transports decode a stream: gzip or zstd, as labelled.
        var body = Data()
        try await BodyInflater(encoding: answer.headers[.contentEncoding]).inflate(ByteBuffer(bytes: wire)) {
            body.append($0.bytes)
        }
        let response = HavenClient.HTTPResponse(status: Int(answer.status.code), headers: fields, body: body)
        kept.withLock { $0.append(Exchange(request: request, response: response)) }
        return response
    }

    /// The router answers whole: a streamed answer is handed over as one piece.
    func stream(_ request: HavenClient.HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws
        -> HavenClient.HTTPResponse
    {
        var response = try await send(request)
        guard response.status == 200 else { return response }
        try await receive(HTTPBodyPiece(bytes: response.body, wireBytes: HavenClient.ServerAPI.wireBytes(of: response)))
        response.body = Data()
        return response
    }
}

extension RouterTransport {
    /// A pull the server answered.
    struct Pull {
        /// The `since` and `limit` asked for (nil: none given).
        var since: String?
        var limit: Int?
        var status: Int
        /// The page, when it was one.
        var page: PullResponse?
        /// The body's bytes as they crossed the wire.
        var wireBytes: Int
    }

    /// A push the server answered.
    struct Push {
        /// The changes sent, inflated and decoded.
        var changes: [Change]
        var contentEncoding: String?
        /// The body's bytes as sent.
        var bodyBytes: Int
        var status: Int
        /// The answer, when the push was taken.
        var answer: PushResponse?
    }

    /// Every pull, in order.
    var pulls: [Pull] {
        exchanges.filter { $0.request.isPull }.map { exchange in
            let query = URLComponents(url: exchange.request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
            let response = exchange.response
            return Pull(
                since: query.first { $0.name == "since" }?.value,
                limit: query.first { $0.name == "limit" }?.value.flatMap { Int($0) },
                status: response.status,
                page: response.status == 200 ? try? JSONDecoder().decode(PullResponse.self, from: response.body) : nil,
                wireBytes: response.header("Content-Length").flatMap { Int($0) } ?? response.body.count)
        }
    }

    /// Every push, in order.
    var pushes: [Push] {
        exchanges.filter { $0.request.method == "POST" }.map { exchange in
            let request = exchange.request
            let encoding = request.headers["Content-Encoding"]
            let body = request.body ?? Data()
            let json = encoding == "gzip" ? (try? Gzip.decompress(body)) ?? Data() : body
            let response = exchange.response
            return Push(
                changes: (try? JSONDecoder().decode(PushRequest.self, from: json))?.changes ?? [],
                contentEncoding: encoding, bodyBytes: body.count, status: response.status,
                answer: response.status == 200 ? try? JSONDecoder().decode(PushResponse.self, from: response.body) : nil)
        }
    }

    /// The ids of the changes the server answered `applied`, in order.
    var applied: [String] {
        pushes.flatMap { $0.answer?.results ?? [] }.filter { $0.status == .applied }.map(\.id)
    }

    /// The cursor of each page, in order: what each next pull should start from.
    var cursors: [String] { pulls.compactMap { $0.page?.cursor.description } }
}
