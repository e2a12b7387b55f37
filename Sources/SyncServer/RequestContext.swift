import Hummingbird
import NIOCore

/// The per-request context: who is calling, once authenticated, and from where.
public struct HavenRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's own part of the context.
    public var coreContext: CoreRequestContextStorage
    /// The socket peer; nil when there is no socket (router tests).
    public let remoteAddress: SocketAddress?
    /// Set by ``AuthMiddleware`` for every route under `/v1`.
    public var caller: Caller?

    /// The context of a request that came in over `source`'s channel; no caller yet.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.caller = nil
    }

    /// The authenticated caller; the middleware guarantees one on `/v1` routes.
    func requireCaller() throws -> Caller {
        guard let caller else { throw APIError.unauthorized }
        return caller
    }
}
