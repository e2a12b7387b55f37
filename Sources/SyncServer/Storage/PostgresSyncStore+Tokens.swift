import Foundation
import HavenCore
import Logging
import PostgresNIO

/// Tokens in the PostgreSQL store, kept by the hash of their secret.
extension PostgresSyncStore {
    package func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        let tokens = try await client.withConnection { connection in
            try await Self.tokens(connection, where: "WHERE hash = \(hash)", logger)
        }
        guard let token = tokens.first, token.isValid(at: now) else { return nil }
        if token.shouldRecordUse(at: now) {
            // Best effort: a busy database must not turn a valid token away.
            _ = try? await client.query(
                "UPDATE tokens SET last_used_at = \(Int64(clamping: now)) WHERE id = \(token.id)", logger: logger)
        }
        return Caller(tokenID: token.id, name: token.name, role: token.role)
    }

    package func addToken(_ token: TokenInfo, hash: Data) async throws {
        let logger = self.logger
        // The transaction returns the token in the way rather than throwing: PostgresNIO wraps
        // what its closure throws.
        let existing = try await client.withTransaction(logger: logger) { connection -> TokenInfo? in
            // Two instances creating the same name take turns, so only one succeeds.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.tokenNameLock))", logger: logger)
            let sameName = try await Self.tokens(
                connection, where: "WHERE name = \(token.name) AND revoked_at IS NULL", logger)
            if let existing = sameName.first { return existing }
            try await connection.query(
                """
                INSERT INTO tokens (id, name, role, hash, created_at, expires_at)
                VALUES (\(token.id), \(token.name), \(token.role.rawValue), \(hash), \(Int64(clamping: token.createdAt)), \(token.expiresAt.map { Int64(clamping: $0) }))
                """, logger: logger)
            return nil
        }
        if let existing { throw TokenNameTaken(existing: existing) }
    }

    /// An arbitrary constant: the advisory lock that token creation takes.
    private static let tokenNameLock: Int64 = 0x4861_7665_6E01

    package func tokens() async throws -> [TokenInfo] {
        try await client.withConnection { connection in
            try await Self.tokens(connection, where: "ORDER BY created_at DESC, id", logger)
        }
    }

    package func revokeToken(id: String, now: UInt64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.exists(
                "UPDATE tokens SET revoked_at = \(Int64(clamping: now)) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger)
        }
    }

    private static func tokens(_ connection: PostgresConnection, where clause: PostgresQuery, _ logger: Logger)
        async throws -> [TokenInfo]
    {
        var query: PostgresQuery = "SELECT id, name, role, created_at, expires_at, revoked_at, last_used_at FROM tokens "
        query.sql += clause.sql
        query.binds = clause.binds
        let rows = try await connection.rows(
            query, as: (String, String, String, Int64, Int64?, Int64?, Int64?).self, logger)
        return try rows.map { id, name, role, createdAt, expiresAt, revokedAt, lastUsedAt in
            guard let role = Role(rawValue: role) else { throw PostgresStoreError("token \(id) has an unknown role") }
            return TokenInfo(
                id: id, name: name, role: role, createdAt: UInt64(createdAt), expiresAt: expiresAt.map(UInt64.init),
                revokedAt: revokedAt.map(UInt64.init), lastUsedAt: lastUsedAt.map(UInt64.init))
        }
    }
}
