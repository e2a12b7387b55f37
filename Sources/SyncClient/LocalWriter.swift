import GRDB
import HavenCore

/// Local writes made one after another in one transaction: an edit makes one, an import one per
/// record. The replica's settings are read once, and its clock and change counter carried from
/// one write to the next and stored once, by ``finish(_:)``.
///
/// Each write stamps the registers it changes, merges them into the record and queues them in
/// the outbox as one change, once ``LocalAdmission`` allows it. The record's rejected changes
/// are folded in (Replica+Outbox.swift, rule 2): what they wrote and the record still holds is
/// sent again with this change, stamped now, unless this change writes it anew.
struct LocalWriter {
    private let replica: Replica
    private var settings: ReplicaSettings
    private var clock: HybridLogicalClock
    private let admission: LocalAdmission
    private var changes = 0

    /// Reads the replica's settings in the caller's transaction.
    init(_ db: Database, replica: Replica) throws {
        self.replica = replica
        settings = try ReplicaSettings.load(db)
        clock = replica.clock(settings)
        admission = LocalAdmission(settings)
    }

    /// Stamps the registers `makeChange` writes, merges them and queues them.
    ///
    /// - Throws: the ``LocalAdmission`` refusal; the caller's transaction must then be rolled
    ///   back, rejected changes taken here included.
    mutating func write(_ db: Database, record: RecordState, makeChange: (RecordState, Timestamp) -> RecordState) throws {
        let isNew = record.fields.isEmpty && record.deleted == nil
        try replica.keepServerState(db, of: record, isNew: isNew)
        // The new write must win over every register the record already holds.
        if let latest = record.latestStamp { clock.witness(latest) }
        let stamp = clock.now()
        var delta = makeChange(record, stamp)
        let rejected = try replica.takeRejected(db, of: record)
        for (name, register) in rejected.fields where delta.fields[name] == nil {
            delta.fields[name] = Register(register.value, stamp: stamp)
        }
        if delta.deleted == nil, let deleted = rejected.deleted {
            delta.deleted = Register(deleted.value, stamp: stamp)
        }
        try replica.save(db, record.merged(with: delta))
        settings.counter += 1
        let change = Change(id: "\(settings.replicaID)-\(settings.counter)", base: settings.cursor, record: delta)
        // Refused here, in the server's words, rather than saved and refused at sync.
        let body = try Replica.json(change)
        let bytes = Change.encodedBytes(replicaJSON: body)
        if let refusal = admission.refusal(of: change, existing: isNew ? nil : record, bytes: bytes) { throw refusal }
        try db.cachedStatement(sql: "INSERT INTO outbox (change_id, record_id, body) VALUES (?, ?, ?)")
            .execute(arguments: [change.id, record.id, body])
        changes += 1
    }

    /// Stores the change counter and the clock: once, after the last write.
    func finish(_ db: Database) throws {
        guard changes > 0 else { return }
        try ReplicaSettings.set(db, .counter, String(settings.counter))
        try ReplicaSettings.set(db, .clock, clock.last.description)
    }
}
