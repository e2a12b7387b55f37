import HavenCore
import Hummingbird
import HTTPTypes

/// Answers only the protocol versions this server still speaks (``ProtocolVersion/admit(_:)``):
/// a client too old gets 426 `upgrade_required`, a malformed or newer version 400
/// `invalid_header`, each with a message that says what to update. The server's own version is
/// stated on every answer by ``ErrorAndClockMiddleware``.
struct ProtocolVersionMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        switch ProtocolVersion.admit(request.headers[.havenProtocol]) {
        case .accepted: return try await next(request, context)
        case .refused(let refusal) where refusal.upgradeRequired:
            throw APIError(.upgradeRequired, code: .upgradeRequired, message: refusal.message)
        case .refused(let refusal):
            throw APIError(.badRequest, code: .invalidHeader, message: refusal.message)
        }
    }
}

extension HTTPField.Name {
    /// The sync protocol's version: the client's on a request, the server's on an answer.
    static let havenProtocol = Self(ProtocolVersion.headerName)!
}
