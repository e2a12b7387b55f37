import Foundation
import HavenTrust
import Logging
import PostgresNIO

/// Publisher signing keys in the PostgreSQL store, shared by every instance.
extension PostgresSyncStore {
    package func signingKeys() async throws -> [StoredSigningKey] {
        try await client.withConnection { connection in try await Self.signingKeys(connection, logger) }
    }

    package func addSigningKey(_ make: @escaping @Sendable ([StoredSigningKey]) throws -> StoredSigningKey) async throws {
        let logger = self.logger
        try await client.transaction(logger: logger) { connection in
            // Two rotations at once take turns: the second endorses from the first's new key.
            try await connection.query("LOCK TABLE signing_keys IN EXCLUSIVE MODE", logger: logger)
            let stored = try make(try await Self.signingKeys(connection, logger))
            try await connection.query(
                """
                INSERT INTO signing_keys (number, id, private_key, endorsement, created_at)
                VALUES ((SELECT coalesce(max(number), 0) + 1 FROM signing_keys), \(stored.key.publicKey.id),
                    \(Data(stored.key.rawKey)), \(stored.endorsement.map { Data($0) }), \(Int64(clamping: stored.createdAt)))
                """, logger: logger)
        }
    }

    /// The newest key: the one that signs.
    static func currentSigningKey(_ connection: PostgresConnection, _ logger: Logger) async throws -> PublisherSigningKey? {
        try await connection.rows(
            "SELECT private_key FROM signing_keys ORDER BY number DESC LIMIT 1", as: Data.self, logger
        ).first.map { try PublisherSigningKey(rawKey: $0) }
    }

    private static func signingKeys(_ connection: PostgresConnection, _ logger: Logger) async throws -> [StoredSigningKey] {
        try await connection.rows(
            "SELECT private_key, endorsement, created_at FROM signing_keys ORDER BY number", as: (Data, Data?, Int64).self,
            logger
        ).map { raw, endorsement, createdAt in
            StoredSigningKey(
                key: try PublisherSigningKey(rawKey: raw), endorsement: endorsement.map { Array($0) },
                createdAt: UInt64(clamping: createdAt))
        }
    }
}
