import Foundation
import HavenCore
import ServiceLifecycle

/// The server's database: the change log's rows and the tokens, one implementation per backend
/// (``SQLiteSyncStore``, ``PostgresSyncStore``).
///
/// A store is a `Service`: its `run()` owns what the database needs while the server runs (the
/// PostgreSQL connection pool and its LISTEN loop) and closes the database when it ends. Commands
/// that use a store outside a service group run it with ``withRunning(_:)``.
package protocol SyncStore: ChangeLogStorage, MediaStorage, TokenStore, SigningKeyStore, ConsoleSessionStore, Service {}

extension SyncStore {
    /// Runs the store while `body` uses it, then closes it, also when `body` throws.
    package func withRunning<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { try await self.run() }
            do {
                let result = try await body()
                group.cancelAll()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}

/// Where the server keeps its access tokens, each under the hash of its secret.
package protocol TokenStore: Sendable {
    /// The caller a token hash belongs to, if the token exists and is valid at `now`; records
    /// the use when ``TokenInfo/shouldRecordUse(at:)`` says so.
    func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller?
    /// Stores a new token under its hash; throws ``TokenNameTaken`` when an unrevoked token has
    /// its name (checked and inserted in one transaction).
    func addToken(_ token: TokenInfo, hash: Data) async throws
    /// Every token, newest first.
    func tokens() async throws -> [TokenInfo]
    /// Revokes the token with this id; returns false when there is no unrevoked one.
    /// ``revokeToken(_:now:)`` takes a name too.
    func revokeToken(id: String, now: UInt64) async throws -> Bool
}

/// A token could not be created: an unrevoked token has its name.
package struct TokenNameTaken: Error, CustomStringConvertible {
    package var existing: TokenInfo

    package var description: String {
        "a token named '\(existing.name)' exists already (id \(existing.id), \(existing.role.rawValue)): "
            + "choose another name, or revoke it first with 'haven-server token revoke \(existing.id)'"
    }
}
