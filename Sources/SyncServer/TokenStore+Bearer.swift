import Foundation

extension TokenStore {
    /// The caller of a valid `Authorization: Bearer <token>` value at `now`; nil for anything
    /// else (another scheme, an oversized value, an unknown, expired or revoked token).
    ///
    /// The one place a request's token is read: ``AuthMiddleware`` checks it when a request
    /// arrives, and a handler that waited checks it again before it answers.
    func caller(forAuthorization header: String, now: UInt64) async throws -> Caller? {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        guard header.count <= 300, header.lowercased().hasPrefix("bearer ") else { return nil }
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !secret.isEmpty, secret.count <= 200 else { return nil }
        return try await caller(forTokenHash: TokenSecret.hash(secret), now: now)
    }
}
