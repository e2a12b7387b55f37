import Foundation
import GRDB
import HavenCore

/// What the replica holds, for the read commands.
extension Replica {
    /// One record by id or unique id prefix.
    public func record(_ id: String, kind: RecordKind? = nil) throws -> RecordState {
        try database.read { db in try loadRecord(db, matching: id, kind: kind) }
    }

    /// Records of `kind` (all kinds when nil), tombstones only if asked, sorted by id.
    public func records(_ kind: RecordKind? = nil, includeDeleted: Bool = false) throws -> [RecordState] {
        try database.read { db in
            var sql = "SELECT state FROM records WHERE 1"
            var arguments: StatementArguments = []
            if let kind {
                sql += " AND kind = ?"
                arguments += [kind.rawValue]
            }
            if !includeDeleted { sql += " AND deleted = 0" }
            return try String.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map {
                try Self.decode(RecordState.self, $0)
            }
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

    /// Changes the server refused, with its reason.
    public func rejectedChanges() throws -> [RejectedChange] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT change_id, record_id, error FROM outbox WHERE status = 'rejected' ORDER BY seq")
                .map { RejectedChange(changeID: $0["change_id"], recordID: $0["record_id"], reason: $0["error"] ?? "") }
        }
    }

    /// Counts and times for `haven status`.
    public func status() throws -> ReplicaStatus {
        try database.read { db in
            let settings = try ReplicaSettings.load(db)
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return ReplicaStatus(
                replica: path, server: settings.server.absoluteString, replicaID: settings.replicaID.rawValue,
                stories: try count("SELECT COUNT(*) FROM records WHERE kind = 'story' AND deleted = 0"),
                resources: try count("SELECT COUNT(*) FROM records WHERE kind = 'resource' AND deleted = 0"),
                unsentChanges: try count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"),
                rejectedChanges: try count("SELECT COUNT(*) FROM outbox WHERE status = 'rejected'"),
                conflicts: try count("SELECT COUNT(*) FROM conflicts"),
                lastSync: settings.lastSync, cursor: settings.cursor?.description)
        }
    }

    /// Every visible record as a content pack, in canonical form.
    public func exportPack() throws -> ContentPack {
        ContentPack(
            records: try records().map { record in
                ContentPack.Record(id: record.id, kind: record.kind, fields: record.values.filter { $0.value != .null })
            })
    }
}

/// A change the server refused, kept in the outbox.
public struct RejectedChange: Sendable, Codable {
    public var changeID: String
    public var recordID: String
    public var reason: String
}

/// The replica's state at a glance.
public struct ReplicaStatus: Sendable, Codable {
    public var replica: String
    public var server: String
    public var replicaID: String
    public var stories: Int
    public var resources: Int
    public var unsentChanges: Int
    public var rejectedChanges: Int
    public var conflicts: Int
    /// Milliseconds since 1970; nil before the first sync.
    public var lastSync: UInt64?
    public var cursor: String?
}
