import Foundation
import GRDB
import HavenCore

/// Tokens in the SQLite store, kept by the hash of their secret.
extension SQLiteSyncStore {
    package func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        let token = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]).map(Self.token(from:))
        }
        guard let token, token.isValid(at: now) else { return nil }
        if token.shouldRecordUse(at: now) {
            // Best effort: a busy database must not turn a valid token away.
            try? await database.write { db in
                // Clamped, as every time this store writes: a wall clock past Int64 must not trap.
                try db.execute(
                    sql: "UPDATE tokens SET last_used_at = ? WHERE id = ?", arguments: [Int64(clamping: now), token.id])
            }
        }
        return Caller(tokenID: token.id, name: token.name, role: token.role)
    }

    package func addToken(_ token: TokenInfo, hash: Data) async throws {
        try await database.write { db in
            let sameName = try Row.fetchOne(
                db, sql: "SELECT * FROM tokens WHERE name = ? AND revoked_at IS NULL", arguments: [token.name])
            if let sameName { throw TokenNameTaken(existing: try Self.token(from: sameName)) }
            try db.execute(
                sql: "INSERT INTO tokens (id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    token.id, token.name, token.role.rawValue, hash, Int64(clamping: token.createdAt),
                    token.expiresAt.map { Int64(clamping: $0) },
                ])
        }
    }

    package func tokens() async throws -> [TokenInfo] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at DESC, id").map(Self.token(from:))
        }
    }

    package func revokeToken(id: String, now: UInt64) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Int64(clamping: now), id])
            return db.changesCount > 0
        }
    }

    private static func token(from row: Row) throws -> TokenInfo {
        guard let role = Role(rawValue: row["role"]) else {
            throw DatabaseError(message: "token \(row["id"] as String) has an unknown role")
        }
        return TokenInfo(
            id: row["id"], name: row["name"], role: role, createdAt: row["created_at"], expiresAt: row["expires_at"],
            revokedAt: row["revoked_at"], lastUsedAt: row["last_used_at"])
    }
}
