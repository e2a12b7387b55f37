import Foundation
import GRDB
import HavenCore
import HavenTrust

/// What the replica holds, for the read commands.
extension Replica {
    /// One record by id or unique id prefix.
    public func record(_ id: String, kind: RecordKind? = nil) throws -> RecordState {
        try database.read { db in try loadRecord(db, matching: id, kind: kind) }
    }

    /// Records of `kind` (all kinds when nil), tombstones only if asked, sorted by id.
    public func records(_ kind: RecordKind? = nil, includeDeleted: Bool = false) throws -> [RecordState] {
        try database.read { db in try Self.records(db, kind: kind, includeDeleted: includeDeleted) }
    }

    static func records(_ db: Database, kind: RecordKind?, includeDeleted: Bool) throws -> [RecordState] {
        var sql = "SELECT state FROM records WHERE 1"
        var arguments: StatementArguments = []
        if let kind {
            sql += " AND kind = ?"
            arguments += [kind.rawValue]
        }
        if !includeDeleted { sql += " AND deleted = 0" }
        return try String.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map {
            try decode(RecordState.self, $0)
        }
    }

    /// Conflicts reported by the server, oldest first.
    public func conflicts() throws -> [Conflict] {
        try database.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM conflicts ORDER BY id").map {
                try Self.decode(Conflict.self, $0)
            }
        }
    }

    /// Changes the server refused (or that were too large to send), oldest first, with the reason.
    public func rejectedChanges() throws -> [RejectedChange] {
        try database.read { db in try rejectedChanges(db) }
    }

    private func rejectedChanges(_ db: Database) throws -> [RejectedChange] {
        try Row.fetchAll(db, sql: "SELECT body, error FROM outbox WHERE status = 'rejected' ORDER BY seq").map { row in
            let change = try Self.decode(Change.self, row["body"] as String)
            let fields = change.record.fields.keys.sorted() + (change.record.deleted == nil ? [] : ["deleted"])
            return RejectedChange(
                changeID: change.id, recordID: change.record.id, kind: change.record.kind, fields: fields,
                error: Self.rejection(from: row["error"]))
        }
    }

    /// Counts, times and sizes for `haven status`.
    public func status() throws -> ReplicaStatus {
        try database.read { db in try status(db) }
    }

    func status(_ db: Database) throws -> ReplicaStatus {
        let settings = try ReplicaSettings.load(db)
        func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
        let now = wallClock()
        return ReplicaStatus(
            replica: path, encrypted: Self.hasKeyFile(at: path), server: settings.server.absoluteString,
            replicaID: settings.replicaID.rawValue,
            account: settings.role.map { role in
                "\(TerminalText.escaped(settings.accountName ?? "?"))'s \(role.rawValue) token"
            },
            accountName: settings.role == nil ? nil : settings.accountName ?? "?", role: settings.role,
            stories: try count("SELECT COUNT(*) FROM records WHERE kind = 'story' AND deleted = 0"),
            resources: try count("SELECT COUNT(*) FROM records WHERE kind = 'resource' AND deleted = 0"),
            unsentChanges: try count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"),
            rejectedChanges: try count("SELECT COUNT(*) FROM outbox WHERE status = 'rejected'"),
            conflicts: try count("SELECT COUNT(*) FROM conflicts"),
            lastSync: settings.lastSync, cursor: settings.cursor?.description,
            lastPull: settings.lastPull,
            cursorAgeSeconds: settings.lastPull.map { Int((Int64(now) - Int64($0)) / 1000) },
            batchSize: settings.batchSize ?? SyncEngine.Configuration.defaultBatchSize,
            pageSize: settings.pageSize ?? SyncEngine.Configuration.defaultPageLimit,
            rejected: try rejectedChanges(db),
            publisherKey: try Self.publisherKey(db)?.id,
            verifiedSeq: try ReplicaSettings.string(db, .verifiedSignature)
                .map { try Self.decode(PublishedSetSignature.self, $0).seq },
            verificationFailed: try ReplicaSettings.string(db, .verificationFailure) == "failed",
            unverifiedRecords: try count("SELECT COUNT(*) FROM unverified"),
            failingMedia: try failingMedia(db).map { file, names in
                ReplicaStatus.FailingMedia(
                    id: file.id, names: names, size: file.size, failures: file.failures, reason: file.lastError ?? "")
            })
    }

    /// Every visible record as a content pack, in canonical form, each with its version (its
    /// latest stamp), so that importing the pack later never undoes a newer edit.
    ///
    /// - Parameter includingRejected: keep the values of changes the server refused; without
    ///   it, a record holds the server's values instead, and one whose creation was refused is
    ///   left out.
    public func exportPack(includingRejected: Bool = false) throws -> ContentPack {
        try database.read { db in
            var records = try String.fetchAll(db, sql: "SELECT state FROM records WHERE deleted = 0 ORDER BY id")
                .map { try Self.decode(RecordState.self, $0) }
            if !includingRejected {
                records = try records.compactMap { try withoutRejected(db, $0) }.filter { !$0.isDeleted }
            }
            return ContentPack(
                records: records.map { record in
                    ContentPack.Record(
                        id: record.id, kind: record.kind, fields: record.values.filter { $0.value != .null },
                        version: record.latestStamp)
                })
        }
    }
}

/// A change the server refused, kept in the outbox until an edit of its record or
/// `haven retry` sends it again.
public struct RejectedChange: Sendable, Codable, Equatable {
    /// The change's id and its record's.
    public var changeID: String
    /// The id of the record the change wrote.
    public var recordID: String
    /// The record's kind.
    public var kind: RecordKind
    /// The registers the change wrote ("deleted" for the flag).
    public var fields: [String]
    /// The server's code, such as `forbidden` or `invalid_field` (`too_large` when the client
    /// could not send the change at all).
    public var code: ErrorCode
    /// The server's message, naming the field at fault.
    public var message: String
    /// The message and the code, as a person reads them.
    public var reason: String

    init(changeID: String, recordID: String, kind: RecordKind, fields: [String], error: ErrorDetail) {
        self.changeID = changeID
        self.recordID = recordID
        self.kind = kind
        self.fields = fields
        self.code = error.code
        self.message = error.message
        self.reason = error.description
    }
}

/// The replica's state at a glance.
public struct ReplicaStatus: Sendable, Codable, Equatable {
    /// The replica file's path.
    public var replica: String
    /// Whether the replica is encrypted at rest (a key file beside it).
    public var encrypted: Bool
    /// The server's address.
    public var server: String
    /// The id in every stamp this replica makes.
    public var replicaID: String
    /// The token as the server last stated it, such as "amina's field token"; nil before it was asked.
    public var account: String?
    /// The token's account name and role, as the server last stated them; nil before it was asked.
    public var accountName: String?
    /// The token's role as the server last stated it; nil before it was asked.
    public var role: Role?
    /// Stories held, deleted ones not counted.
    public var stories: Int
    /// Resources held, deleted ones not counted.
    public var resources: Int
    /// Changes waiting to be sent.
    public var unsentChanges: Int
    /// Changes the server refused, kept until an edit or `haven retry` sends them again.
    public var rejectedChanges: Int
    /// Conflicts reported for this replica's writes.
    public var conflicts: Int
    /// When the last complete sync finished, milliseconds since 1970; nil before the first.
    public var lastSync: UInt64?
    /// Where the next pull starts; nil before the first.
    public var cursor: String?
    /// When a pull last reached the end of the server's log, milliseconds since 1970.
    public var lastPull: UInt64?
    /// Seconds since then: how old this replica's view of the server is.
    public var cursorAgeSeconds: Int?
    /// The sizes the next sync starts from, as the link last allowed.
    public var batchSize: Int
    /// The pull page size the next sync starts from.
    public var pageSize: Int
    /// The rejected changes themselves.
    public var rejected: [RejectedChange]
    /// The pinned publisher key's fingerprint; nil when none is pinned.
    public var publisherKey: String?
    /// The change log position of the last signature that verified; nil before the first.
    public var verifiedSeq: Int64?
    /// Whether the last check of the publisher's signature failed (after its download again),
    /// or `haven verify` found the replica altered.
    public var verificationFailed: Bool
    /// Records no verified signature covers now.
    public var unverifiedRecords: Int
    /// Media files whose upload keeps failing, with the reason: the changes naming them wait.
    public var failingMedia: [FailingMedia] = []

    /// One media file that failed to upload.
    public struct FailingMedia: Sendable, Codable, Equatable {
        /// The file's id: the SHA-256 of its bytes.
        public var id: String
        /// The names records give it.
        public var names: [String]
        /// The file's length in bytes.
        public var size: Int64
        /// How many attempts to upload it failed.
        public var failures: Int
        /// Why the last attempt failed, in words.
        public var reason: String
    }
}
