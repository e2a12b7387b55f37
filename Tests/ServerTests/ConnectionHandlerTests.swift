import Foundation
import HTTPTypes
import HavenCore
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

@testable import HavenServer

/// The connection's own handlers, on an embedded channel whose clock the test moves: request
/// read timeouts (issue 19, item 8) and the JSON body of the parser's 400 (item 16). The live
/// server's behaviour is checked over real sockets in the end-to-end tests.
struct ConnectionHandlerTests {
    static let head = HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "h", path: "/v1/changes"))

    // MARK: Request read timeouts

    @Test func aHeadThatStartedAndStalledIsClosedAtTheHeaderTimeout() throws {
        // Given a connection that read bytes that completed no part
        let channel = try Self.channelWithTimeouts(header: .seconds(30), body: .seconds(300))
        channel.pipeline.fireChannelReadComplete()

        // Then it stays open until the header timeout, and is closed then
        channel.embeddedEventLoop.advanceTime(by: .seconds(30) - .nanoseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .nanoseconds(1))
        #expect(!channel.isActive)
    }

    @Test func moreBytesOfAHeadDoNotPutItsDeadlineOff() throws {
        let channel = try Self.channelWithTimeouts(header: .seconds(30), body: .seconds(300))
        // Given a head arriving a few bytes every 10 s
        for _ in 0..<2 {
            channel.pipeline.fireChannelReadComplete()
            channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        }
        channel.pipeline.fireChannelReadComplete()
        #expect(channel.isActive)

        // Then it is closed 30 s after its first bytes
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test func bodyPartsDoNotPutTheBodyDeadlineOff() throws {
        // Given a request whose head was read, and whose body comes a part every 100 s
        let channel = try Self.channelWithTimeouts(header: .seconds(30), body: .seconds(300))
        try channel.writeInbound(Self.head)
        for _ in 0..<2 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(100))
            try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{")))
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(99))
        #expect(channel.isActive)

        // Then it is closed 300 s after its head
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aRequestBeingAnsweredIsNeverCutAndTheNextHeadGetsItsOwnDeadline() throws {
        // Given a request read whole, head and end in one read, then answered for an hour
        let channel = try Self.channelWithTimeouts(header: .seconds(30), body: .seconds(300))
        channel.pipeline.fireChannelRead(Self.head)
        channel.pipeline.fireChannelRead(HTTPRequestPart.end(nil))
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .seconds(3_600))
        #expect(channel.isActive)

        // When the start of another head arrives, Then that one has 30 s
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    // MARK: The parser's 400

    @Test func theParsersBareBadRequestGetsTheJSONError() throws {
        // Given a connection whose parser refused a request
        let channel = EmbeddedChannel(handler: ParserErrorHandler(clock: { 1_750_000_000_000 }))
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidContentLength)

        // When Hummingbird writes its bare 400
        try channel.writeOutbound(
            HTTPResponsePart.head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))

        // Then it goes out with the JSON error, its length and the server's time
        guard case .head(let head) = try #require(try channel.readOutbound(as: HTTPResponsePart.self)),
            case .body(let body) = try #require(try channel.readOutbound(as: HTTPResponsePart.self)),
            case .end = try #require(try channel.readOutbound(as: HTTPResponsePart.self))
        else {
            Issue.record("not a head, a body and an end")
            return
        }
        let error = try JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)).error
        #expect(error.code == .invalidHeader)
        #expect(error.message.hasPrefix("Content-Length"))
        #expect(head.status == .badRequest)
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        #expect(head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[.connection] == "close")
        #expect(head.headerFields[HTTPField.Name("X-Haven-Server-Time")!] == "1750000000000")
        #expect(head.headerFields[HTTPField.Name(ProtocolVersion.headerName)!] == String(ProtocolVersion.current))
    }

    @Test func otherAnswersPassUntouched() throws {
        // Given no parser error: a route's own empty 400 goes out as written
        let channel = EmbeddedChannel(handler: ParserErrorHandler(clock: { 0 }))
        let head = HTTPResponse(status: .badRequest, headerFields: [.contentLength: "0"])
        try channel.writeOutbound(HTTPResponsePart.head(head))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == .head(head))
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == .end(nil))
    }

    // MARK: Helpers

    /// An active embedded channel with the timeout handler.
    static func channelWithTimeouts(header: Duration, body: Duration) throws -> EmbeddedChannel {
        let logger = Logger(label: "haven-server-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let channel = EmbeddedChannel(handler: RequestReadTimeoutHandler(header: header, body: body, logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }
}
