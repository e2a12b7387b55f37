import Foundation

/// One signed-in console session as the database keeps it: under the SHA-256 of its id (the
/// cookie's value), so a copy of the database holds no cookie; never the token, only its hash.
package struct ConsoleSession: Sendable, Hashable {
    /// The SHA-256 of the token it was opened with.
    package let tokenHash: Data
    /// The value every form of the session carries and every post must send back.
    package let formKey: String
    /// Milliseconds since 1970.
    package let expiresAt: UInt64
}

/// Where the console keeps its sessions: in the database, so that every instance on one
/// PostgreSQL database knows a session another opened, and a restart signs nobody out.
package protocol ConsoleSessionStore: Sendable {
    /// Stores a new session under the hash of its id, and forgets the sessions expired at `now`.
    func addConsoleSession(_ session: ConsoleSession, idHash: Data, now: UInt64) async throws
    /// The session stored under this id hash, if it has not expired at `now`.
    func consoleSession(idHash: Data, now: UInt64) async throws -> ConsoleSession?
    /// Forgets the session stored under this id hash, if there is one.
    func removeConsoleSession(idHash: Data) async throws
}
