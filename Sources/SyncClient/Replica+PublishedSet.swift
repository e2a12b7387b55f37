import Foundation
import GRDB
import HavenCore
import HavenTrust

/// The replica's digest of its published set, kept as the server's own is (HavenTrust's
/// ``PublishedSetDigest``), so that the publisher's signature can be checked after every sync
/// without hashing every record.
///
/// Rule 1. The digest is over the server's values: a record's state as the server holds it
/// (its kept `server_states` row while it has unsent changes, its `records` row otherwise), not
/// over this replica's own unsent edits.
///
/// Rule 2. Each record in the published set has its element's seed in `published_elements`, so
/// that a record leaving the set is removed from the digest without a copy of what it held.
/// Every transaction that changes a record's server values refreshes its element.
///
/// Rule 3. ``recomputedPublishedDigest(_:)`` computes the digest again from the records
/// themselves: what `haven verify` holds against the last verified signature.
extension Replica {
    static func createPublishedSet(_ db: Database) throws {
        try db.execute(
            sql: """
                -- The element seed (SHA-256 of the canonical encoding) of each record in the published set.
                CREATE TABLE published_elements (id TEXT PRIMARY KEY, seed BLOB NOT NULL) WITHOUT ROWID;
                -- A record's row as it was at the last verified signature, kept the first time a
                -- pull changes it after that; state NULL: the record was not there.
                CREATE TABLE verified_rows (id TEXT PRIMARY KEY, state TEXT) WITHOUT ROWID;
                -- Records whose content no verified signature covers now.
                CREATE TABLE unverified (id TEXT PRIMARY KEY) WITHOUT ROWID;
                """)
        // From the states themselves: the rows' seeds came later (v7).
        let ids = try String.fetchAll(db, sql: "SELECT id FROM records UNION SELECT id FROM server_states")
        var digest = PublishedSetDigest()
        let seeds = try ids.map { try serverView(db, of: $0).flatMap(elementSeed) }
        try refreshElements(db, ids: ids, known: Dictionary(uniqueKeysWithValues: zip(ids, seeds)), digest: &digest)
        try setPublishedDigest(db, digest)
    }

    /// The running digest of the published set.
    static func publishedDigest(_ db: Database) throws -> PublishedSetDigest {
        try ReplicaSettings.string(db, .publishedDigest)
            .flatMap { Data(base64Encoded: $0) }.flatMap { PublishedSetDigest(bytes: $0) } ?? PublishedSetDigest()
    }

    static func setPublishedDigest(_ db: Database, _ digest: PublishedSetDigest) throws {
        try ReplicaSettings.set(db, .publishedDigest, Data(digest.bytes).base64EncodedString())
    }

    /// The record as the server holds it, as far as this replica has seen (rule 1); nil when the
    /// server has no such record.
    static func serverView(_ db: Database, of id: String) throws -> RecordState? {
        // Cached: a push's answer asks for every record it sent.
        if let kept = try Row.fetchOne(db.cachedStatement(sql: "SELECT state FROM server_states WHERE id = ?"), arguments: [id]) {
            return try (kept["state"] as String?).map { try decode(RecordState.self, $0) }
        }
        return try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM records WHERE id = ?"), arguments: [id])
            .map { try decode(RecordState.self, $0) }
    }

    /// The element seed of the record's server view (rule 1); nil when it is not in the
    /// published set. A row's seed is kept beside it (StoredRecord); a row stored before that
    /// is read and hashed.
    private static func serverSeed(_ db: Database, of id: String) throws -> [UInt8]? {
        if let kept = try Row.fetchOne(db.cachedStatement(sql: "SELECT state FROM server_states WHERE id = ?"), arguments: [id]) {
            return try (kept["state"] as String?).flatMap { elementSeed(of: try decode(RecordState.self, $0)) }
        }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT seed FROM records WHERE id = ?"), arguments: [id])
        guard let row else { return nil }
        if let seed = row["seed"] as Data? { return seed.isEmpty ? nil : Array(seed) }
        return try serverView(db, of: id).flatMap(elementSeed)
    }

    /// Brings the elements of `ids` and the running digest up to date with their server
    /// values (rule 2).
    static func refreshPublished(_ db: Database, ids: some Sequence<String>) throws {
        var digest = try publishedDigest(db)
        let before = digest
        try refreshElements(db, ids: ids, digest: &digest)
        if digest != before { try setPublishedDigest(db, digest) }
    }

    /// As ``refreshPublished(_:ids:)``, on a digest the caller stores. `known` holds the
    /// element seeds (nil: outside the published set) of server values the caller has just
    /// stored, so that they are not read back and encoded again.
    static func refreshElements(
        _ db: Database, ids: some Sequence<String>, known: [String: [UInt8]?] = [:], digest: inout PublishedSetDigest
    ) throws {
        let find = try db.cachedStatement(sql: "SELECT seed FROM published_elements WHERE id = ?")
        let addIfNew = try db.cachedStatement(
            sql: "INSERT INTO published_elements (id, seed) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
        for id in Set(ids) {
            // An element new to the set (most of a download's) goes in with one search of the index.
            if case .some(.some(let seed)) = known[id] {
                try addIfNew.execute(arguments: [id, Data(seed)])
                if db.changesCount > 0 {
                    digest.add(seed: seed)
                    continue
                }
            }
            let old = try Data.fetchOne(find, arguments: [id]).map { Array($0) }
            let new: [UInt8]?
            if let seed = known[id] { new = seed } else { new = try serverSeed(db, of: id) }
            guard old != new else { continue }
            if let old { digest.remove(seed: old) }
            if let new {
                digest.add(seed: new)
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO published_elements (id, seed) VALUES (?, ?)")
                    .execute(arguments: [id, Data(new)])
            } else {
                try db.execute(sql: "DELETE FROM published_elements WHERE id = ?", arguments: [id])
            }
        }
    }

    /// The seed of `record`'s element, nil when it is not in the published set.
    static func elementSeed(of record: RecordState) -> [UInt8]? {
        Publication.isInPublishedSet(record) ? PublishedSetDigest.elementSeed(of: record) : nil
    }

    /// Drops the elements of records no longer in the replica and sums the digest again from
    /// the seeds kept: after many records left at once (a re-download).
    static func resumPublished(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM published_elements WHERE id NOT IN (SELECT id FROM records)")
        var digest = PublishedSetDigest()
        for seed in try Data.fetchAll(db, sql: "SELECT seed FROM published_elements") { digest.add(seed: Array(seed)) }
        try setPublishedDigest(db, digest)
    }

    /// The digest computed from scratch from the records' server values (rule 3), and the ids
    /// of records whose element no longer matches the seed kept for it: records altered in the
    /// file.
    func recomputedPublishedDigest() throws -> (digest: PublishedSetDigest, altered: [String]) {
        try database.read { db in
            var digest = PublishedSetDigest()
            var altered: [String] = []
            let kept = try Dictionary(
                Row.fetchAll(db, sql: "SELECT id, seed FROM published_elements").map { ($0["id"] as String, Array($0["seed"] as Data)) },
                uniquingKeysWith: { first, _ in first })
            var seen: Set<String> = []
            for id in try String.fetchAll(db, sql: "SELECT id FROM records UNION SELECT id FROM server_states") {
                guard let seed = try Self.serverView(db, of: id).flatMap(Self.elementSeed) else { continue }
                digest.add(seed: seed)
                seen.insert(id)
                if kept[id] != seed { altered.append(id) }
            }
            altered += kept.keys.filter { !seen.contains($0) }
            return (digest, altered.sorted())
        }
    }
}
