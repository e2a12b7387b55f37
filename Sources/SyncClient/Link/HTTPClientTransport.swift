import AsyncHTTPClient
import Foundation
import HavenCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The real link: AsyncHTTPClient over SwiftNIO, holding each answer to the protocol's bounds
/// (DESIGN §7: a broken or hostile server must not send the token elsewhere or exhaust memory).
///
/// Rule 1. Redirects are never followed, to any origin: a 3xx is a ``ProtocolViolation`` that
/// names where it pointed, so the bearer token only ever goes to the server the replica was made for.
///
/// Rule 2. A body is read chunk by chunk and refused as soon as it passes `maxBytes`
/// (`ProtocolLimits/answerBytes`); a `Content-Length` past it is refused before reading.
///
/// Rule 3. A gzip body is inflated here, not by the HTTP stack, and refused as soon as it
/// inflates past `maxBytes`; one that is not gzip after all is named as such.
///
/// Rule 4. `request.timeout` bounds the whole exchange, body included. A connection that cannot
/// be made fails at once: the sync engine owns retries and their backoff.
public struct HTTPClientTransport: HTTPTransport {
    /// The client every transport of the process shares, so that a sync reuses its connections;
    /// it lives as long as the process and is never shut down.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// The most bytes read of one answer, on the wire and once inflated.
    public let maxBytes: Int

    /// A transport that refuses answers larger than `maxBytes`, on the wire or inflated.
    public init(maxBytes: Int = ProtocolLimits.answerBytes) {
        self.maxBytes = maxBytes
    }

    /// Sends `request` by the rules above and returns the answer, whatever its status.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let deadline = NIODeadline.now() + .milliseconds(Int64((request.timeout * 1000).rounded(.up)))
        let response = try await Self.client.execute(Self.outgoing(request), deadline: deadline)
        let status = Int(response.status.code)
        let headers = try answerHeaders(status: status, response.headers, for: request)
        let wire = try await read(response.body, declaredLength: headers["content-length"].flatMap { Int($0) })
        return HTTPResponse(status: status, headers: headers, body: try inflate(wire, encoding: headers["content-encoding"]))
    }

    /// Rules 1 and 3 hold; rule 2 holds for an answer other than 2xx, while a 2xx body is handed
    /// on as it arrives; rule 4 does not: the caller bounds each wait for the next piece.
    public func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws
        -> HTTPResponse
    {
        let response = try await Self.client.execute(Self.outgoing(request), deadline: .distantFuture)
        let status = Int(response.status.code)
        let headers = try answerHeaders(status: status, response.headers, for: request)
        guard (200..<300).contains(status) else {
            let wire = try await read(response.body, declaredLength: headers["content-length"].flatMap { Int($0) })
            return HTTPResponse(status: status, headers: headers, body: try inflate(wire, encoding: headers["content-encoding"]))
        }
        let inflater = try BodyInflater(encoding: headers["content-encoding"])
        for try await chunk in response.body { try await inflater.inflate(chunk, emit: receive) }
        return HTTPResponse(status: status, headers: headers, body: Data())
    }

    private static func outgoing(_ request: HTTPRequest) -> HTTPClientRequest {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        return outgoing
    }

    /// The answer's headers, names in lowercase, once a redirect is refused (rule 1).
    func answerHeaders(status: Int, _ fields: HTTPHeaders, for request: HTTPRequest) throws -> [String: String] {
        if (300..<400).contains(status) {
            let location = fields.first(name: "Location").flatMap { URL(string: $0, relativeTo: request.url) }
            throw ProtocolViolation.redirect(status: status, to: location?.absoluteURL)
        }
        var headers: [String: String] = [:]
        for header in fields { headers[header.name.lowercased()] = header.value }
        return headers
    }

    /// The body as it came over the wire, refused past ``maxBytes`` (rule 2).
    func read<Body: AsyncSequence>(_ body: Body, declaredLength: Int?) async throws -> ByteBuffer
    where Body.Element == ByteBuffer {
        if let declaredLength, declaredLength > maxBytes { throw ProtocolViolation.tooLarge(limit: maxBytes) }
        var received = ByteBuffer()
        for try await chunk in body {
            // Leaving the loop early drops the stream, which closes the connection: the rest is never read.
            guard received.readableBytes + chunk.readableBytes <= maxBytes else {
                throw ProtocolViolation.tooLarge(limit: maxBytes)
            }
            received.writeImmutableBuffer(chunk)
        }
        return received
    }

    /// The body inflated as its `Content-Encoding` says, refused past ``maxBytes`` (rule 3).
    func inflate(_ wire: ByteBuffer, encoding: String?) throws -> Data {
        guard wire.readableBytes > 0 else { return Data() }  // Nothing to decode, whatever the label.
        switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "identity":
            return Data(wire.readableBytesView)
        case "gzip", "x-gzip":
            do {
                return try Gzip.decompress(Data(wire.readableBytesView), maxSize: maxBytes)
            } catch Gzip.Failure.tooLarge {
                throw ProtocolViolation.inflatesTooLarge(limit: maxBytes)
            } catch {
                throw ProtocolViolation.undecodable(encoding: encoding ?? "gzip")
            }
        case let other?:
            throw ProtocolViolation.unknownEncoding(other)
        }
    }
}
