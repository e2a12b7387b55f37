import Foundation

/// What ``TokenStore/revokeToken(_:now:)`` did.
package enum TokenRevocation: Sendable, Equatable {
    /// The token is revoked from now on.
    case revoked(TokenInfo)
    /// The only token so named or with that id was revoked before; nothing changed.
    case alreadyRevoked(TokenInfo)
    /// No token has that id or name.
    case notFound
    /// Several tokens, revoked ones included, have that name; nothing changed: revoke by id.
    case ambiguous([TokenInfo])
}

extension TokenStore {
    /// Revokes a token by id, which always works, or by name, only when one token (revoked or
    /// not) has that name: `token revoke amina` must never revoke an `amina` the person did not
    /// mean, such as the one in use.
    package func revokeToken(_ idOrName: String, now: UInt64) async throws -> TokenRevocation {
        let tokens = try await tokens()
        let matches = tokens.first { $0.id == idOrName }.map { [$0] } ?? tokens.filter { $0.name == idOrName }
        guard let token = matches.first else { return .notFound }
        guard matches.count == 1 else { return .ambiguous(matches) }
        guard token.revokedAt == nil, try await revokeToken(id: token.id, now: now) else {
            return .alreadyRevoked(token)
        }
        var revoked = token
        revoked.revokedAt = now
        return .revoked(revoked)
    }
}
