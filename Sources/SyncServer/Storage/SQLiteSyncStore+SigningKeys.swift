import Foundation
import GRDB
import HavenTrust

/// Publisher signing keys in the SQLite store.
extension SQLiteSyncStore {
    package func signingKeys() async throws -> [StoredSigningKey] {
        try await database.read { db in try Self.signingKeys(db) }
    }

    package func addSigningKey(_ make: @escaping @Sendable ([StoredSigningKey]) throws -> StoredSigningKey) async throws {
        try await database.write { db in
            let stored = try make(try Self.signingKeys(db))
            try db.execute(
                sql: """
                    INSERT INTO signing_keys (number, id, private_key, endorsement, created_at)
                    VALUES ((SELECT coalesce(max(number), 0) + 1 FROM signing_keys), ?, ?, ?, ?)
                    """,
                arguments: [
                    stored.key.publicKey.id, Data(stored.key.rawKey), stored.endorsement.map { Data($0) },
                    Int64(clamping: stored.createdAt),
                ])
        }
    }

    /// The newest key: the one that signs.
    static func currentSigningKey(_ db: Database) throws -> PublisherSigningKey? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT private_key FROM signing_keys ORDER BY number DESC LIMIT 1")
        ).map { try PublisherSigningKey(rawKey: $0["private_key"] as Data) }
    }

    private static func signingKeys(_ db: Database) throws -> [StoredSigningKey] {
        try Row.fetchAll(db, sql: "SELECT private_key, endorsement, created_at FROM signing_keys ORDER BY number").map { row in
            StoredSigningKey(
                key: try PublisherSigningKey(rawKey: row["private_key"] as Data),
                endorsement: (row["endorsement"] as Data?).map { Array($0) },
                createdAt: UInt64(clamping: row["created_at"] as Int64))
        }
    }
}
