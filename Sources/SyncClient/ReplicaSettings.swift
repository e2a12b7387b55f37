import Foundation
import GRDB
import HavenCore

/// The replica's own state, kept in its `meta` table.
public struct ReplicaSettings: Sendable {
    enum Key: String {
        case server, token, replicaID = "replica_id", cursor, clock, counter, lastSync = "last_sync"
        case serverOffset = "server_offset"
        /// The highest directory `create` made for the replica, which a wipe removes if empty.
        case createdDirectory = "created_directory"
        case lastPull = "last_pull", batchSize = "batch_size", pageSize = "page_size"
        /// The replica file's device and inode, to notice a copy or a restore (Replica+Identity.swift).
        case fileIdentity = "file_identity"
        /// Set while the full-text index is not kept up to date (Replica+Search.swift).
        case searchIndexDeferred = "search_index_deferred"
        /// The server key an https:// replica trusts (Link/PinnedKey.swift).
        case pin
        /// Set by `haven init --insecure-http`: plain http:// to another machine is allowed (Link/PlainHTTPRule.swift).
        case insecureHTTP = "insecure_http"
        /// What the server last said of the token (`GET /v1/me`, Replica+Account.swift).
        case accountName = "account_name", role, recordBytes = "record_bytes", review
        case accountFingerprint = "account_fingerprint"
        /// Signed content (Replica+PublishedSet.swift, Replica+Verification.swift): the pinned
        /// publisher key, the running digest, the last verified signature, and whether a
        /// verification failed (`retrying` while the one re-download runs, then `failed`).
        case publisherKey = "publisher_key", publishedDigest = "published_digest"
        case verifiedSignature = "verified_signature", verificationFailure = "verification_failure"
    }

    /// The server this replica syncs with.
    public var server: URL
    var token: String
    /// The id in every stamp this replica makes.
    public var replicaID: ReplicaID
    /// Where the next pull starts; nil before the first.
    public var cursor: SyncCursor?
    /// The last stamp issued or seen.
    public var clock: Timestamp?
    /// How many changes this replica has made: the second half of each change id.
    public var counter: Int64
    /// When the last sync finished, milliseconds since 1970.
    public var lastSync: UInt64?
    /// Server clock minus local clock, in milliseconds, from the last response.
    public var serverOffset: Int64
    /// When a pull last reached the end of the log, milliseconds since 1970: the cursor's age.
    public var lastPull: UInt64?
    /// The push batch and pull page sizes the link last allowed; nil before they first adapted.
    public var batchSize: Int?
    /// The pull page size the link last allowed; nil before it first adapted.
    public var pageSize: Int?
    /// The server key trusted; nil for an http:// server.
    public var pin: PinnedKey?
    /// Whether plain http:// to another machine was allowed at `init`.
    public var insecureHTTP: Bool
    /// The token's name and role as the server last stated them; nil before it was asked.
    public var accountName: String?
    /// The token's role as the server last stated it; nil before it was asked.
    public var role: Role?
    /// The largest change the server takes, in bytes, as it last stated it.
    public var recordBytes: Int?
    /// How many people publishing needs on the server, as it last stated it; nil before it was
    /// asked, or from an older server: the stricter `ReviewPolicy/two` is assumed then.
    public var review: ReviewPolicy?
    /// The fingerprint of the account answer those were read from (HavenCore's `Account.fingerprint`);
    /// nil before, or from an older server.
    public var accountFingerprint: String?

    static func load(_ db: Database) throws -> ReplicaSettings {
        let values = try Dictionary(
            uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, value FROM meta").map {
                ($0["key"] as String, $0["value"] as String)
            })
        guard let server = values[Key.server.rawValue].flatMap(URL.init(string:)),
            let token = values[Key.token.rawValue],
            let replicaID = values[Key.replicaID.rawValue].flatMap(ReplicaID.init)
        else { throw ClientError(
                Words(
                    "the replica file is incomplete: run 'haven init' again in a new place",
                    korean: "복제본 파일이 완전하지 않습니다: 다른 위치에서 'haven init'을 다시 실행하세요")) }
        return ReplicaSettings(
            server: server, token: token, replicaID: replicaID,
            cursor: values[Key.cursor.rawValue].flatMap(SyncCursor.init),
            clock: values[Key.clock.rawValue].flatMap(Timestamp.init),
            counter: values[Key.counter.rawValue].flatMap { Int64($0) } ?? 0,
            lastSync: values[Key.lastSync.rawValue].flatMap { UInt64($0) },
            serverOffset: values[Key.serverOffset.rawValue].flatMap { Int64($0) } ?? 0,
            lastPull: values[Key.lastPull.rawValue].flatMap { UInt64($0) },
            batchSize: values[Key.batchSize.rawValue].flatMap { Int($0) },
            pageSize: values[Key.pageSize.rawValue].flatMap { Int($0) },
            pin: values[Key.pin.rawValue].flatMap(PinnedKey.init(parsing:)),
            insecureHTTP: values[Key.insecureHTTP.rawValue] == "1",
            accountName: values[Key.accountName.rawValue],
            role: values[Key.role.rawValue].flatMap(Role.init(rawValue:)),
            recordBytes: values[Key.recordBytes.rawValue].flatMap { Int($0) },
            review: values[Key.review.rawValue].flatMap(ReviewPolicy.init(rawValue:)),
            accountFingerprint: values[Key.accountFingerprint.rawValue].flatMap {
                AccountValues(
                    name: values[Key.accountName.rawValue], role: values[Key.role.rawValue],
                    recordBytes: values[Key.recordBytes.rawValue], review: values[Key.review.rawValue]
                ).fingerprint(in: $0)
            })
    }

    /// The account values a replica keeps, as stored. The fingerprint is stored with them (as a
    /// JSON array: the fingerprint, then these), and read back only while they are still the
    /// values stored: a build before fingerprints, sharing the file, saves new values without
    /// touching it, and a fingerprint kept beside values it does not describe could leave them
    /// unrefreshed for good.
    struct AccountValues: Equatable {
        var name: String?
        var role: String?
        var recordBytes: String?
        var review: String?

        private var list: [String?] { [name, role, recordBytes, review] }

        /// `fingerprint` stored with these values.
        func stamped(_ fingerprint: String) -> String {
            let text = try? JSONEncoder().encode([fingerprint] + list)
            return text.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }

        /// The fingerprint `stored` holds, if it was stored with these values.
        func fingerprint(in stored: String) -> String? {
            guard let array = try? JSONDecoder().decode([String?].self, from: Data(stored.utf8)), array.count == 5,
                let fingerprint = array[0], Array(array.dropFirst()) == list
            else { return nil }
            return fingerprint
        }
    }

    /// One value, read alone.
    static func string(_ db: Database, _ key: Key) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key.rawValue])
    }

    static func set(_ db: Database, _ key: Key, _ value: String?) throws {
        if let value {
            try db.cachedStatement(
                sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [key.rawValue, value])
        } else {
            try db.cachedStatement(sql: "DELETE FROM meta WHERE key = ?").execute(arguments: [key.rawValue])
        }
    }
}
