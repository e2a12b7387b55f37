import Foundation
import PostgresNIO

/// Console sessions in the PostgreSQL store (``ConsoleSessionStore``): shared by every instance.
extension PostgresSyncStore {
    package func addConsoleSession(_ session: ConsoleSession, idHash: Data, now: UInt64) async throws {
        let logger = self.logger
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "DELETE FROM console_sessions WHERE expires_at <= \(Int64(clamping: now))", logger: logger)
            try await connection.query(
                """
                INSERT INTO console_sessions (id_hash, token_hash, form_key, expires_at)
                VALUES (\(idHash), \(session.tokenHash), \(session.formKey), \(Int64(clamping: session.expiresAt)))
                """, logger: logger)
        }
    }

    package func consoleSession(idHash: Data, now: UInt64) async throws -> ConsoleSession? {
        let rows = try await client.query(
            """
            SELECT token_hash, form_key, expires_at FROM console_sessions
            WHERE id_hash = \(idHash) AND expires_at > \(Int64(clamping: now))
            """, logger: logger)
        for try await (tokenHash, formKey, expiresAt) in rows.decode((Data, String, Int64).self) {
            return ConsoleSession(tokenHash: tokenHash, formKey: formKey, expiresAt: UInt64(clamping: expiresAt))
        }
        return nil
    }

    package func removeConsoleSession(idHash: Data) async throws {
        try await client.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger: logger)
    }
}
