import Foundation
import GRDB

/// What a pulled page does to keep the last verified state (Replica+Verification.swift): the
/// first time a record changes after a verified signature, its row as it was is kept, so that a
/// failed check can put it back; and a record marked unverified is replaced whole when a
/// download from scratch brings it, since its row here may have been altered.
struct VerifiedRows {
    /// Whether a verified signature exists: before the first, there is nothing to keep.
    private let keeping: Bool
    /// Whether any record is marked unverified: most downloads replace none.
    private let anyUnverified: Bool

    /// Read once for a transaction of pages, which changes neither.
    init(_ db: Database) throws {
        keeping = try ReplicaSettings.string(db, .verifiedSignature) != nil
        anyUnverified = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM unverified)") ?? false
    }

    /// Keeps `row`, the record's row before the page changes it, unless a row is kept already.
    func keep(_ db: Database, id: String, row: String?) throws {
        guard keeping else { return }
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO verified_rows (id, state) VALUES (?, ?)")
            .execute(arguments: [id, row])
    }

    /// Whether the record `id` is to be replaced by what a page brings rather than merged with
    /// it; `redownload`: whether the page belongs to a download from scratch.
    func replaces(_ db: Database, id: String, redownload: Bool) throws -> Bool {
        guard redownload, anyUnverified else { return false }
        let statement = try db.cachedStatement(
            sql: """
                SELECT EXISTS (SELECT 1 FROM unverified WHERE id = ?)
                    AND NOT EXISTS (SELECT 1 FROM outbox WHERE record_id = ? AND status IN ('pending', 'rejected'))
                """)
        return try Bool.fetchOne(statement, arguments: [id, id]) ?? false
    }
}
