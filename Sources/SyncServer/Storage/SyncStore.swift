import Foundation
import HavenCore
import ServiceLifecycle

/// The server's database: the change log's rows and the tokens, one implementation per backend
/// (``SQLiteSyncStore``, ``PostgresSyncStore``).
///
/// A store is a `Service`: its `run()` owns what the database needs while the server runs (the
/// PostgreSQL connection pool and its LISTEN loop) and closes the database when it ends. Commands
/// that use a store outside a service group run it with ``withRunning(_:)``.
package protocol SyncStore: ChangeLogStorage, TokenStore, Service {}

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
    /// The caller a token hash belongs to, if the token exists and is valid at `now`.
    func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller?
    /// Stores a new token under its hash.
    func addToken(_ token: TokenInfo, hash: Data) async throws
    /// Every token, newest first.
    func tokens() async throws -> [TokenInfo]
    /// Revokes a token by id or name; returns false when there is none.
    func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool
}
