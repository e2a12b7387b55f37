import Foundation
import HavenCore
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Gives the 400 that answers a request the HTTP parser refused (a bad `Content-Length`, a NUL
/// in a header, a malformed request line) the JSON error body every other error has, naming
/// what was wrong.
///
/// Hummingbird answers a parser error itself, after any response still in flight on the
/// connection, with an empty 400 and `Connection: close`. This handler notes the parser's error
/// on its way in and fills that answer in on its way out, so the order of responses is
/// Hummingbird's.
final class ParserErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let clock: HybridLogicalClock.WallClock
    /// The parser's error, until its answer is written.
    private var refused: HTTPParserError?
    /// The body to write before the end of the answer being written.
    private var body: ByteBuffer?

    init(clock: @escaping HybridLogicalClock.WallClock) {
        self.clock = clock
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { refused = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where refused != nil && head.status == .badRequest && head.headerFields[.contentLength] == "0":
            let detail = Self.detail(for: refused!)
            refused = nil
            let json = ByteBuffer(bytes: jsonBytes(ErrorBody(detail)))
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(json.readableBytes)
            head.headerFields[.serverTime] = String(clock())
            head.headerFields[.havenProtocol] = String(ProtocolVersion.current)
            body = json
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end(let trailers) where body != nil:
            context.write(wrapOutboundOut(.body(body!)), promise: nil)
            body = nil
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    /// The code and message for a parser error: what a client can fix.
    static func detail(for error: HTTPParserError) -> ErrorDetail {
        switch error {
        case .invalidContentLength, .unexpectedContentLength:
            ErrorDetail(
                code: .invalidHeader,
                message: "Content-Length: not a length, repeated with another value, or sent with Transfer-Encoding")
        case .invalidHeaderToken, .invalidCharactersUsed, .lfExpected, .invalidConstant:
            ErrorDetail(
                code: .invalidHeader,
                message: "a header is malformed: a name or value holds a character not allowed there (NUL, CR, LF, "
                    + "other control characters), or a line does not end in CRLF")
        case .headerOverflow:
            ErrorDetail(code: .invalidHeader, message: "the request's headers are too large (80 KiB at most)")
        case .invalidMethod, .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost,
            .invalidPort, .invalidVersion:
            ErrorDetail(
                code: .invalidRequest,
                message: "the request line is malformed: it must be METHOD SP TARGET SP HTTP/1.1, the target "
                    + "printable ASCII")
        case .invalidChunkSize:
            ErrorDetail(code: .invalidRequest, message: "the chunked body is malformed: a chunk size is not hexadecimal")
        default:
            ErrorDetail(code: .invalidRequest, message: "the request is not valid HTTP/1.1 (\(error))")
        }
    }
}
