import Foundation
import GRDB
import HavenCore

/// Tokens in the SQLite store, kept by the hash of their secret.
extension SQLiteSyncStore {
    package func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]) else {
                return nil
            }
            let token = try Self.token(from: row)
            return token.isValid(at: now) ? Caller(tokenID: token.id, name: token.name, role: token.role) : nil
        }
    }

    package func addToken(_ token: TokenInfo, hash: Data) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [token.id, token.name, token.role.rawValue, hash, token.createdAt, token.expiresAt])
        }
    }

    package func tokens() async throws -> [TokenInfo] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at DESC, id").map(Self.token(from:))
        }
    }

    package func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                arguments: [now, idOrName, idOrName])
            return db.changesCount > 0
        }
    }

    private static func token(from row: Row) throws -> TokenInfo {
        guard let role = Role(rawValue: row["role"]) else {
            throw DatabaseError(message: "token \(row["id"] as String) has an unknown role")
        }
        return TokenInfo(
            id: row["id"], name: row["name"], role: role, createdAt: row["created_at"], expiresAt: row["expires_at"],
            revokedAt: row["revoked_at"])
    }
}
