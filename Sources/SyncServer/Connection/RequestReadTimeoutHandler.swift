import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client sends its request too slowly: a request head must arrive
/// whole within the header timeout of its first byte, and a body within the body timeout of its
/// head. Without it a client that sends a few bytes now and then keeps a connection, and its
/// file descriptor, forever.
///
/// Hummingbird's idle timeout (`HTTP1Channel.Configuration.idleTimeout`), set beside it, closes
/// a connection that completes nothing between requests; but it starts again with every part
/// read, so a body sent a byte a minute would outlive it. Neither timeout runs while a request
/// is being answered: a long-poll waits its whole `wait`.
///
/// Sits after the HTTP decoder, which passes on parts, not bytes: a read that completed no part
/// while no request was being read is taken as the start of a head. (A head that starts in the
/// same read as the end of the request before it is left to the idle timeout.)
final class RequestReadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// What the connection is waiting for from the client.
    private enum Phase: String {
        case nextRequest, head, body
    }

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let logger: Logger
    private var phase = Phase.nextRequest
    /// Whether a part was read since the last read completed.
    private var readPart = false
    private var deadline: Scheduled<Void>?

    init(header: Duration, body: Duration, logger: Logger) {
        self.headerTimeout = TimeAmount(header)
        self.bodyTimeout = TimeAmount(body)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readPart = true
        switch unwrapInboundIn(data) {
        case .head: wait(for: .body, within: bodyTimeout, context: context)
        case .body: break
        case .end: stopWaiting()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !readPart, phase == .nextRequest { wait(for: .head, within: headerTimeout, context: context) }
        readPart = false
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopWaiting()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopWaiting()
    }

    private func wait(for phase: Phase, within timeout: TimeAmount, context: ChannelHandlerContext) {
        self.phase = phase
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            deadline = nil
            logger.info(
                "closed a connection: request too slow",
                metadata: ["waited_for": "\(phase.rawValue)", "ms": "\(timeout.nanoseconds / 1_000_000)"])
            context.close(promise: nil)
        }
    }

    private func stopWaiting() {
        phase = .nextRequest
        deadline?.cancel()
        deadline = nil
    }
}
