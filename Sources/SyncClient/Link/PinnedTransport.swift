import AsyncHTTPClient
import Foundation
import HavenCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The link to an `https://` server whose key the replica pinned (``PinnedKey``): the pin, not a
/// certificate authority, decides whom to trust, so a certificate for another key is refused even
/// when a CA the system trusts signed it, and a self-signed server is trusted by its pinned key.
///
/// AsyncHTTPClient offers no hook to see the server's certificate, so this transport speaks
/// HTTP/1.1 over its own SwiftNIO TLS connection, one connection per request, and otherwise keeps
/// ``HTTPClientTransport``'s rules: no redirects, bounded answers, gzip inflated here, a deadline
/// over the whole exchange.
public struct PinnedTransport: HTTPTransport {
    /// The only server key accepted.
    public let pin: PinnedKey
    /// The answer bounds and decoding, shared with the unpinned link.
    private let bounds: HTTPClientTransport

    /// A transport that talks only to a server holding the key `pin`.
    public init(pin: PinnedKey, maxBytes: Int = ProtocolLimits.answerBytes) {
        self.pin = pin
        self.bounds = HTTPClientTransport(maxBytes: maxBytes)
    }

    /// Sends `request` over TLS to the pinned key only, and returns the answer, whatever its status.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await Self.withDeadline(seconds: request.timeout) {
            try await exchange(request, receive: nil)
        }
    }

    /// As ``send(_:)``, with a 2xx body handed on as it arrives (``HTTPClientTransport``'s
    /// `stream`); no deadline over the whole exchange: the caller bounds each wait.
    public func stream(_ request: HTTPRequest, receive: (HTTPBodyPiece) async throws -> Void) async throws
        -> HTTPResponse
    {
        try await withoutActuallyEscaping(receive) { receive in try await exchange(request, receive: receive) }
    }

    /// One request over a new connection to the pinned key; a key other than the pin is named.
    private func exchange(_ request: HTTPRequest, receive: ((HTTPBodyPiece) async throws -> Void)?) async throws
        -> HTTPResponse
    {
        let seen = SeenKey()
        let pin = self.pin
        do {
            let channel = try await TLSConnection.open(to: request.url) { key in
                seen.key.withLock { $0 = key }
                return key == pin
            }
            return try await exchange(request, over: channel, receive: receive)
        } catch {
            if let key = seen.key.withLock({ $0 }), key != pin { throw ClientError.keyChanged(pinned: pin, found: key) }
            throw error
        }
    }

    /// Whether `error` is the other end closing or resetting the connection: during a handshake
    /// that showed no certificate, a plain server answering the greeting and hanging up (which
    /// reads as a TLS error or, when the close wins the race, as a reset).
    static func closedByPeer(_ error: any Error) -> Bool {
        if let error = error as? IOError { return [ECONNRESET, EPIPE].contains(error.errnoCode) }
        if let error = error as? ChannelError {
            return [ChannelError.eof, .ioOnClosedChannel, .outputClosed, .alreadyClosed].contains(error)
        }
        return false
    }

    /// The server's key, as its certificate shows it, trusting nothing yet: what `init` and
    /// `pin update` show and keep.
    public static func fetchKey(of server: URL, timeout: Double = 30) async throws -> PinnedKey {
        try await withDeadline(seconds: timeout) {
            let seen = SeenKey()
            let channel: TLSConnection.Channel
            do {
                channel = try await TLSConnection.open(to: server) { key in
                    seen.key.withLock { $0 = key }
                    return true
                }
            } catch {
                let failure = describeFailure(error, server: server)
                throw ClientError(
                    Words(
                        "cannot reach the server: \(failure.english)", korean: "서버에 닿을 수 없습니다: \(failure.korean)"),
                    code: .unreachable)
            }
            // The key is known once the handshake is done, which an answer to any request proves.
            var failure: (any Error)?
            do {
                try await channel.executeThenClose { inbound, outbound in
                    var head = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")
                    head.headers.add(name: "Host", value: TLSConnection.hostHeader(of: server))
                    head.headers.add(name: "Connection", value: "close")
                    try await outbound.write(.head(head))
                    try await outbound.write(.end(nil))
                    for try await _ in inbound { break }
                }
            } catch {
                failure = error
            }
            guard let key = seen.key.withLock({ $0 }) else {
                if let failure, failure is NIOSSLError || failure is BoringSSLError || Self.closedByPeer(failure) {
                    throw ClientError(notHTTPSText(server))
                }
                let why =
                    failure.map { describeFailure($0, server: server) }
                    ?? Words("no TLS handshake", korean: "TLS 핸드셰이크가 없었습니다")
                throw ClientError(
                    Words(
                        "\(server.absoluteString) showed no certificate (\(why.english)): "
                            + "check that --server is the server's https:// address",
                        korean: "\(server.absoluteString): 서버가 인증서를 보이지 않았습니다 (\(why.korean)). "
                            + "--server가 서버의 https:// 주소인지 확인하세요"))
            }
            return key
        }
    }

    private func exchange(
        _ request: HTTPRequest, over channel: TLSConnection.Channel, receive: ((HTTPBodyPiece) async throws -> Void)?
    ) async throws -> HTTPResponse {
        try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(
                version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: Self.target(of: request.url))
            head.headers.add(name: "Host", value: TLSConnection.hostHeader(of: request.url))
            for (name, value) in request.headers { head.headers.replaceOrAdd(name: name, value: value) }
            head.headers.replaceOrAdd(name: "Content-Length", value: String(request.body?.count ?? 0))
            head.headers.replaceOrAdd(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            if let body = request.body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))

            var status: Int?
            var headers: [String: String] = [:]
            var wire = ByteBuffer()
            // Set when a 2xx body is handed on as it arrives.
            var inflater: BodyInflater?
            reading: for try await part in inbound {
                switch part {
                case .head(let answer):
                    status = Int(answer.status.code)
                    headers = try bounds.answerHeaders(status: Int(answer.status.code), answer.headers, for: request)
                    if receive != nil, (200..<300).contains(Int(answer.status.code)) {
                        inflater = try BodyInflater(encoding: headers["content-encoding"])
                    } else if let length = headers["content-length"].flatMap({ Int($0) }), length > bounds.maxBytes {
                        throw ProtocolViolation.tooLarge(limit: bounds.maxBytes)
                    }
                case .body(let chunk):
                    if let inflater, let receive {
                        try await inflater.inflate(chunk, emit: receive)
                        continue
                    }
                    guard wire.readableBytes + chunk.readableBytes <= bounds.maxBytes else {
                        throw ProtocolViolation.tooLarge(limit: bounds.maxBytes)
                    }
                    wire.writeImmutableBuffer(chunk)
                case .end:
                    break reading
                }
            }
            guard let status else { throw HTTPClientError.remoteConnectionClosed }
            if inflater != nil { return HTTPResponse(status: status, headers: headers, body: Data()) }
            return HTTPResponse(
                status: status, headers: headers, body: try bounds.inflate(wire, encoding: headers["content-encoding"]))
        }
    }

    /// The path and query of `url`, as the request line carries them.
    private static func target(of url: URL) -> String {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? "/"
        let query = components?.percentEncodedQuery.map { "?" + $0 } ?? ""
        return (path.isEmpty ? "/" : path) + query
    }

    /// `body`'s result, or AsyncHTTPClient's `deadlineExceeded` once `seconds` have passed (the
    /// engine's retry and messages treat it as the unpinned link's timeout).
    private static func withDeadline<T: Sendable>(
        seconds: Double, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
                throw HTTPClientError.deadlineExceeded
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}

/// The key the server showed in the handshake, kept for the error that follows a refusal.
private final class SeenKey: Sendable {
    let key = Mutex<PinnedKey?>(nil)
}

/// One TLS connection to a server, whose certificate `accept` judges by its key alone.
enum TLSConnection {
    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// The client context: the custom verification below replaces the CA check, so the system
    /// trust store plays no part.
    private static let context: NIOSSLContext? = try? NIOSSLContext(configuration: .makeClientConfiguration())

    static func open(to url: URL, accept: @escaping @Sendable (PinnedKey) -> Bool) async throws -> Channel {
        guard let host = url.host, let context else { throw ClientError(Words("cannot open a TLS connection to \(url)", korean: "TLS 연결을 열 수 없습니다: \(url)")) }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        // SNI carries names only, never an address.
        let serverName = (try? SocketAddress(ipAddress: bare, port: 0)) == nil ? bare : nil
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: bare, port: url.port ?? 443) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(
                        context: context, serverHostname: serverName,
                        customVerificationCallback: { certificates, promise in
                            guard let leaf = certificates.first, let key = try? PinnedKey(of: leaf), accept(key) else {
                                return promise.succeed(.failed)
                            }
                            promise.succeed(.certificateVerified)
                        })
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// The `Host` header for `url`: its host, and its port when not 443.
    static func hostHeader(of url: URL) -> String {
        let host = url.host ?? ""
        let written = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return url.port.map { $0 == 443 ? written : "\(written):\($0)" } ?? written
    }
}
