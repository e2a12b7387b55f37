import Foundation
import GRDB
import HavenCore

/// Local edits: each is one transaction that merges the change into the replica and appends it
/// to the outbox, so nothing reported as saved can be lost by a crash.
extension Replica {
    /// Adds a new record and returns its id.
    ///
    /// - Throws: `ValidationError` naming the field at fault; nothing is saved then.
    @discardableResult
    public func add(_ kind: RecordKind, values: [String: JSONValue], id: String = RecordID.random()) throws -> String {
        let values = values.filter { $0.value != .null }
        try RecordSchema.validate(values, kind: kind)
        try database.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM records WHERE id = ?", arguments: [id]) != nil {
                throw ClientError(Words("a record with id \(id) already exists", korean: "id가 \(id)인 기록이 이미 있습니다"))
            }
            try write(db, record: RecordState(id: id, kind: kind)) { state, stamp in
                RecordState(id: id, kind: kind, fields: values.mapValues { Register($0, stamp: stamp) })
            }
        }
        return id
    }

    /// Sets the given fields (null clears an optional one) and returns the names that changed.
    ///
    /// - Throws: `ValidationError` for a bad value, ``ClientError`` for a missing or deleted record.
    @discardableResult
    public func edit(_ id: String, kind: RecordKind? = nil, values: [String: JSONValue]) throws -> [String] {
        try database.write { db in try edit(db, id, kind: kind, values: values) }
    }

    /// ``edit(_:kind:values:)`` in the caller's transaction.
    func edit(_ db: Database, _ id: String, kind: RecordKind?, values: [String: JSONValue]) throws -> [String] {
        let current = try loadRecord(db, matching: id, kind: kind)
        if current.isDeleted {
            let restore = "haven \(current.kind.commandName) restore \(current.id)"
            throw ClientError(
                Words(
                    "record \(current.id) is deleted: restore it first ('\(restore)')",
                    korean: "기록 \(current.id): 삭제된 기록입니다. 먼저 되살리세요 ('\(restore)')"))
        }
        // A field that is not set reads as null, so clearing it changes nothing.
        var changed = values.filter { (current.fields[$0.key]?.value ?? .null) != $0.value }
        guard !changed.isEmpty else { return [] }
        // Review before publish, rule 1: an edit sends a record in review (or published) back
        // to draft, in the same change and so with the same stamp.
        let settings = try ReplicaSettings.load(db)
        if changed["status"] == nil, changed.keys.contains(where: ReviewRule.isContent),
            let status = ReviewRule.statusForEdit(
                of: current.values["status"]?.stringValue, by: settings.role, policy: settings.review ?? .two)
        {
            changed["status"] = .string(status)
        }
        for (field, value) in changed.sorted(by: { $0.key < $1.key }) {
            try RecordSchema.validate(field: field, value: value, kind: current.kind)
        }
        try write(db, record: current) { state, stamp in
            RecordState(id: state.id, kind: state.kind, fields: changed.mapValues { Register($0, stamp: stamp) })
        }
        return changed.keys.sorted()
    }

    /// Deletes a record (a sticky tombstone) and returns its full id.
    @discardableResult
    public func delete(_ id: String, kind: RecordKind? = nil) throws -> String {
        try setDeleted(true, id: id, kind: kind)
    }

    /// Brings a deleted record back and returns its full id. The content the replica dropped at
    /// the delete returns from the outbox where it was not sent yet, and from the server with
    /// the next sync where it was.
    @discardableResult
    public func restore(_ id: String, kind: RecordKind? = nil) throws -> String {
        try setDeleted(false, id: id, kind: kind)
    }

    private func setDeleted(_ deleted: Bool, id: String, kind: RecordKind?) throws -> String {
        try database.write { db in
            let current = try loadRecord(db, matching: id, kind: kind)
            guard current.isDeleted != deleted else {
                throw ClientError(
                    deleted
                        ? Words("record \(current.id) is already deleted", korean: "기록 \(current.id): 이미 삭제되었습니다")
                        : Words("record \(current.id) is not deleted", korean: "기록 \(current.id): 삭제되지 않았습니다"))
            }
            try write(db, record: current) { state, stamp in
                RecordState(id: state.id, kind: state.kind, deleted: Register(.bool(deleted), stamp: stamp))
            }
            if !deleted { try refillFromOutbox(db, id: current.id) }
            return current.id
        }
    }

    /// Merges back into a restored record what its unsent and rejected changes wrote.
    private func refillFromOutbox(_ db: Database, id: String) throws {
        let state = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id])
        guard var record = try state.map({ try Self.decode(RecordState.self, $0) }) else { return }
        let bodies = try String.fetchAll(
            db, sql: "SELECT body FROM outbox WHERE record_id = ? AND status IN ('pending', 'rejected') ORDER BY seq",
            arguments: [id])
        for body in bodies {
            let change = try Self.decode(Change.self, body)
            record.merge(RecordState(id: id, kind: record.kind, fields: change.record.fields))
        }
        try save(db, record)
    }

    /// Stamps the registers `makeChange` writes, merges them and queues them, in the caller's
    /// transaction, once ``LocalAdmission`` allows the change (``LocalWriter``).
    func write(
        _ db: Database, record: RecordState, makeChange: (RecordState, Timestamp) -> RecordState
    ) throws {
        var writer = try LocalWriter(db, replica: self)
        try writer.write(db, record: record, makeChange: makeChange)
        try writer.finish(db)
    }

    /// Stores `record` and returns it as stored (``StoredRecord``).
    @discardableResult
    func save(_ db: Database, _ record: RecordState) throws -> RecordState {
        let stored = try StoredRecord(record)
        try store(db, stored)
        return stored.state
    }

    /// Writes `record`'s row.
    func store(_ db: Database, _ record: StoredRecord) throws {
        // Cached: the search triggers make this statement slow to compile (Replica+Search.swift).
        try db.cachedStatement(
            sql: """
                INSERT INTO records (id, kind, state, deleted, seed) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, deleted = excluded.deleted, seed = excluded.seed
                """
        ).execute(arguments: Self.arguments(record))
    }

    /// Writes `record`'s row if the replica has no record of its id, in one search of the
    /// index where a look first and a write after took two (most records of a download are new).
    ///
    /// - Returns: whether it was written.
    func storeIfNew(_ db: Database, _ record: StoredRecord) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT INTO records (id, kind, state, deleted, seed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
        ).execute(arguments: Self.arguments(record))
        return db.changesCount > 0
    }

    private static func arguments(_ record: StoredRecord) -> StatementArguments {
        [record.state.id, record.state.kind.rawValue, record.row, record.state.isDeleted, Data(record.seed ?? [])]
    }

    /// The record whose id is `id` or starts with it (at least 4 characters, one match only).
    func loadRecord(_ db: Database, matching id: String, kind: RecordKind?) throws -> RecordState {
        let id = id.lowercased()
        var rows = try Row.fetchAll(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id])
        if rows.isEmpty && id.count >= 4 {
            rows = try Row.fetchAll(
                db, sql: "SELECT state FROM records WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                arguments: [id.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"])
        }
        guard rows.count == 1 else {
            if rows.isEmpty && id.count < 4 {
                throw ClientError(
                    Words(
                        "no record with id \(id): give the whole id or at least its first 4 characters",
                        korean: "id가 \(id)인 기록이 없습니다: id 전체나 적어도 앞의 4글자를 주세요"))
            }
            throw rows.isEmpty
                ? ClientError.noRecord(id)
                : ClientError(
                    Words(
                        "id \(id) matches several records: give more of it",
                        korean: "id \(id)에 맞는 기록이 여러 개입니다: id를 더 길게 주세요"))
        }
        let record = try Self.decode(RecordState.self, rows[0]["state"])
        if let kind, record.kind != kind {
            throw ClientError(
                Words(
                    "record \(record.id) is a \(record.kind), not a \(kind)",
                    korean: "기록 \(record.id): \(kind)가 아니라 \(record.kind)입니다"))
        }
        return record
    }
}

extension RecordKind {
    /// The `haven` subcommand for records of this kind.
    public var commandName: String { self == .story ? "stories" : "resources" }
}
