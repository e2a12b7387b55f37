import Foundation
import GRDB

/// Console sessions in the SQLite store (``ConsoleSessionStore``).
extension SQLiteSyncStore {
    package func addConsoleSession(_ session: ConsoleSession, idHash: Data, now: UInt64) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE expires_at <= ?", arguments: [Int64(clamping: now)])
            try db.execute(
                sql: "INSERT INTO console_sessions (id_hash, token_hash, form_key, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [idHash, session.tokenHash, session.formKey, Int64(clamping: session.expiresAt)])
        }
    }

    package func consoleSession(idHash: Data, now: UInt64) async throws -> ConsoleSession? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT token_hash, form_key, expires_at FROM console_sessions WHERE id_hash = ? AND expires_at > ?",
                arguments: [idHash, Int64(clamping: now)]
            ).map { ConsoleSession(tokenHash: $0["token_hash"], formKey: $0["form_key"], expiresAt: $0["expires_at"]) }
        }
    }

    package func removeConsoleSession(idHash: Data) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }
}
