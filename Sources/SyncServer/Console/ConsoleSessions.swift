import Crypto
import Foundation
import HavenCore

/// The console's signed-in sessions: a session is a random id in an `HttpOnly` cookie, standing
/// for the token it was opened with, until it expires or its person signs out. Sessions are kept
/// in the database (``ConsoleSessionStore``), so that every instance on one PostgreSQL database
/// knows them and a restart signs nobody out.
///
/// A session holds the token's hash, never the token, and the token is looked up again on every
/// request (``ConsoleController/signedIn(_:)``): revoking the token, or its expiry, ends the
/// session at once. Each session has its own form key, which every form posts back (CSRF).
struct ConsoleSessions: Sendable {
    let store: any ConsoleSessionStore

    /// How long a session lasts: a working day.
    static let lifetime: UInt64 = 8 * 3_600_000

    /// Opens a session for a token's hash; returns its id, for the cookie.
    func open(tokenHash: Data, now: UInt64) async throws -> String {
        let id = TokenSecret.generate()
        let session = ConsoleSession(tokenHash: tokenHash, formKey: TokenSecret.generate(), expiresAt: expiry(after: Self.lifetime, from: now))
        try await store.addConsoleSession(session, idHash: Self.key(id), now: now)
        return id
    }

    /// The session with this id, unless it expired.
    func session(_ id: String, now: UInt64) async throws -> ConsoleSession? {
        try await store.consoleSession(idHash: Self.key(id), now: now)
    }

    /// Ends the session with this id, if there is one.
    func end(_ id: String) async throws {
        try await store.removeConsoleSession(idHash: Self.key(id))
    }

    /// What the database keeps a session under: the SHA-256 of its id, so it holds no cookie.
    private static func key(_ id: String) -> Data { Data(SHA256.hash(data: Data(id.utf8))) }
}
