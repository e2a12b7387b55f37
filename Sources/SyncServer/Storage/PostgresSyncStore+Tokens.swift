import Foundation
import Logging
import PostgresNIO

/// Tokens in the PostgreSQL store, kept by the hash of their secret.
extension PostgresSyncStore {
    package func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        let tokens = try await client.withConnection { connection in
            try await Self.tokens(connection, where: "WHERE hash = \(hash)", logger)
        }
        guard let token = tokens.first, token.isValid(at: now) else { return nil }
        return Caller(tokenID: token.id, name: token.name, role: token.role)
    }

    package func addToken(_ token: TokenInfo, hash: Data) async throws {
        try await client.query(
            """
            INSERT INTO tokens (id, name, role, hash, created_at, expires_at)
            VALUES (\(token.id), \(token.name), \(token.role.rawValue), \(hash), \(Int64(token.createdAt)), \(token.expiresAt.map(Int64.init)))
            """, logger: logger)
    }

    package func tokens() async throws -> [TokenInfo] {
        try await client.withConnection { connection in
            try await Self.tokens(connection, where: "ORDER BY created_at DESC, id", logger)
        }
    }

    package func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.exists(
                """
                UPDATE tokens SET revoked_at = \(Int64(now))
                WHERE (id = \(idOrName) OR name = \(idOrName)) AND revoked_at IS NULL RETURNING 1
                """, logger)
        }
    }

    private static func tokens(_ connection: PostgresConnection, where clause: PostgresQuery, _ logger: Logger)
        async throws -> [TokenInfo]
    {
        var query: PostgresQuery = "SELECT id, name, role, created_at, expires_at, revoked_at FROM tokens "
        query.sql += clause.sql
        query.binds = clause.binds
        let rows = try await connection.rows(
            query, as: (String, String, String, Int64, Int64?, Int64?).self, logger)
        return try rows.map { id, name, role, createdAt, expiresAt, revokedAt in
            guard let role = Role(rawValue: role) else { throw PostgresStoreError("token \(id) has an unknown role") }
            return TokenInfo(
                id: id, name: name, role: role, createdAt: UInt64(createdAt), expiresAt: expiresAt.map(UInt64.init),
                revokedAt: revokedAt.map(UInt64.init))
        }
    }
}
