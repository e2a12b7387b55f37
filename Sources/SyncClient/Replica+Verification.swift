import Foundation
import GRDB
import HavenCore
import HavenTrust

/// Checking the publisher's signature over the published set (issue 14, DESIGN §8).
///
/// Rule 1. `haven init` pins the publisher's key; a replica without one pins the key of the
/// first signature it gets. A signature by another key is accepted only when the server's key
/// chain (`GET /v1/publisher`) leads to it from the pinned key, endorsement by endorsement; the
/// replica then pins the new key.
///
/// Rule 2. After every pull that reaches the head, the signature must be the pinned key's over
/// this replica's digest (Replica+PublishedSet.swift) at the cursor it reached. A missing
/// signature, once a key is pinned, fails as well: whoever strips it changes nothing.
///
/// Rule 3. On a failure the replica keeps its last verified state: the rows pulled since the
/// last verified signature are put back as they were (``VerifiedRows``), those records are
/// marked unverified, and they are downloaded again once, from the last verified position.
/// If that fails too, the check has failed: `haven status` and every read command that shows
/// an unverified record say so. Unsent changes are never touched.
extension Replica {
    /// What a check of the published set found.
    public enum PublishedSetCheck: String, Sendable, Codable {
        /// The signature matched; every record is verified.
        case verified
        /// The server signs nothing and no key is pinned.
        case unsigned
        /// The check failed; the last verified state is back and one download again follows.
        case retrying
        /// The check failed again after the download again.
        case failed
    }

    /// The pinned publisher key; nil when none is pinned.
    public func publisherKey() throws -> PublisherKey? {
        try database.read(Self.publisherKey)
    }

    static func publisherKey(_ db: Database) throws -> PublisherKey? {
        try ReplicaSettings.string(db, .publisherKey).flatMap { Data(base64Encoded: $0) }.flatMap { PublisherKey(rawKey: $0) }
    }

    /// Pins `key` (`haven init`).
    public func pinPublisherKey(_ key: PublisherKey) throws {
        try database.write { db in try ReplicaSettings.set(db, .publisherKey, Data(key.rawKey).base64EncodedString()) }
    }

    /// The ids of records no verified signature covers now: a published record altered on the
    /// way, or not yet covered by a signed set. An app marks them, as `haven list` does.
    public func unverifiedIDs() throws -> Set<String> {
        try database.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM unverified")) }
    }

    /// Checks `signature`, the last page's, against the pinned key and the replica's digest at
    /// `cursor` (rules 1 and 2), and on a failure keeps the last verified state (rule 3).
    ///
    /// - Parameters:
    ///   - signature: the signature the page that reached the head carried; nil when it had none.
    ///   - cursor: that page's cursor.
    ///   - chain: the server's keys, when the signature names a key other than the pinned one
    ///     (or none is pinned).
    ///   - retried: whether this sync downloaded again after a failed check already.
    package func checkPublishedSet(
        _ signature: PublishedSetSignature?, cursor: SyncCursor, chain: [PublisherKeyEntry]?, retried: Bool = false
    ) throws -> PublishedSetCheck {
        try database.write { db in
            let pinned = try Self.publisherKey(db)
            guard let signature else {
                return pinned == nil ? .unsigned : try fail(db, cursor: cursor, retried: retried)
            }
            let key: PublisherKey?
            if let pinned, pinned.id == signature.key {
                key = pinned
            } else if let pinned {
                key = chain.flatMap { PublisherKey.follow(from: pinned, along: $0) }
            } else {
                key = chain?.first { $0.id == signature.key }.flatMap { PublisherKey($0) }
            }
            let summary = Data(try Self.publishedDigest(db).summary).base64EncodedString()
            guard let key, key.id == signature.key, key.verifies(signature), signature.seq == cursor.seq,
                signature.digest == summary
            else { return try fail(db, cursor: cursor, retried: retried) }
            try ReplicaSettings.set(db, .publisherKey, Data(key.rawKey).base64EncodedString())
            try ReplicaSettings.set(db, .verifiedSignature, try Self.json(signature))
            try ReplicaSettings.set(db, .verificationFailure, nil)
            try db.execute(sql: "DELETE FROM verified_rows; DELETE FROM unverified")
            return .verified
        }
    }

    /// Puts back the last verified state, marks what changed since unverified, and moves the
    /// cursor back to the last verified position (rule 3).
    private func fail(_ db: Database, cursor: SyncCursor, retried: Bool) throws -> PublishedSetCheck {
        let verified = try ReplicaSettings.string(db, .verifiedSignature).map { try Self.decode(PublishedSetSignature.self, $0) }
        let hasUnsent = try db.cachedStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE record_id = ? AND status IN ('pending', 'rejected'))")
        var changed: [String] = []
        for row in try Row.fetchAll(db, sql: "SELECT id, state FROM verified_rows") {
            let id: String = row["id"]
            changed.append(id)
            // A record with unsent changes keeps its row: the person's edits stay where they are.
            guard try Bool.fetchOne(hasUnsent, arguments: [id]) != true else { continue }
            if let state = row["state"] as String? {
                try save(db, try Self.decode(RecordState.self, state))
            } else {
                try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
            }
        }
        try db.execute(sql: "DELETE FROM verified_rows")
        try Self.refreshPublished(db, ids: changed)
        if verified == nil {
            // Nothing was ever verified: nothing here is.
            try db.execute(sql: "INSERT OR IGNORE INTO unverified (id) SELECT id FROM records")
        }
        for id in changed { try db.execute(sql: "INSERT OR IGNORE INTO unverified (id) VALUES (?)", arguments: [id]) }
        // Download again from where the replica was last verified: the records put back are as
        // they were there, so what changed since (removals included) comes again.
        let restart = verified.map { SyncCursor(epoch: cursor.epoch, seq: $0.seq) }
        try ReplicaSettings.set(db, .cursor, restart?.description)
        try ReplicaSettings.set(db, .verificationFailure, retried ? "failed" : "retrying")
        return retried ? .failed : .retrying
    }

    /// What `haven verify` found.
    public struct LocalVerification: Sendable, Codable, Equatable {
        /// Whether the records' server values hash to the last verified signature's digest.
        public var verified: Bool
        /// The change log position of the last verified signature; nil before the first.
        public var seq: Int64?
        /// The key that made it.
        public var key: String?
        /// Records whose content no longer matches what was verified (altered in the file).
        public var altered: [String]
        /// Records marked unverified after this check.
        public var unverified: Int
    }

    /// Recomputes the published set's digest from the replica's records and holds it against the
    /// last verified signature (`haven verify`). Records found altered are marked unverified, and
    /// the next sync downloads everything again, replacing them whole.
    public func verifyLocally() throws -> LocalVerification {
        let (digest, altered) = try recomputedPublishedDigest()
        return try database.write { db in
            let signature = try ReplicaSettings.string(db, .verifiedSignature).map { try Self.decode(PublishedSetSignature.self, $0) }
            let key = try Self.publisherKey(db)
            let matches =
                signature.map { signature in
                    key.map { $0.verifies(signature) } == true
                        && signature.digest == Data(digest.summary).base64EncodedString()
                } ?? false
            if !matches || !altered.isEmpty {
                for id in altered { try db.execute(sql: "INSERT OR IGNORE INTO unverified (id) VALUES (?)", arguments: [id]) }
                if signature != nil {
                    try ReplicaSettings.set(db, .verificationFailure, "failed")
                    try ReplicaSettings.set(db, .cursor, nil)
                }
            }
            let unverified = try Int.fetchOne(db, sql: "SELECT count(*) FROM unverified") ?? 0
            return LocalVerification(
                verified: matches && altered.isEmpty && unverified == 0, seq: signature?.seq, key: signature?.key,
                altered: altered, unverified: unverified)
        }
    }
}
