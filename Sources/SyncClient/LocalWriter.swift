import Dispatch
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
///
/// A write is made in three steps: ``stage(_:record:makeChange:)`` reads and writes what the
/// change depends on, ``StagedWrite/encoded()`` encodes the record and the change on any thread,
/// and ``commit(_:_:)`` stores them. An import encodes its records on a second thread while it
/// stores those before (``EncodingJob``).
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
        try commit(db, stage(db, record: record, makeChange: makeChange).encoded())
    }

    /// The change `makeChange` makes to `record`, stamped and numbered, with the rejected
    /// changes folded in; the record's server state is kept first (Replica+Discard.swift).
    mutating func stage(
        _ db: Database, record: RecordState, makeChange: (RecordState, Timestamp) -> RecordState
    ) throws -> StagedWrite {
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
        settings.counter += 1
        return StagedWrite(
            merged: record.merged(with: delta),
            change: Change(id: "\(settings.replicaID)-\(settings.counter)", base: settings.cursor, record: delta),
            existing: isNew ? nil : record, admission: admission)
    }

    /// Stores the record and queues the change, unless ``LocalAdmission`` refused it.
    mutating func commit(_ db: Database, _ write: EncodedWrite) throws {
        // Refused here, in the server's words, rather than saved and refused at sync.
        if let refusal = write.refusal { throw refusal }
        try replica.store(db, write.record)
        try db.cachedStatement(sql: "INSERT INTO outbox (change_id, record_id, body) VALUES (?, ?, ?)")
            .execute(arguments: [write.changeID, write.record.state.id, write.body])
        changes += 1
    }

    /// Stores the change counter and the clock: once, after the last write.
    func finish(_ db: Database) throws {
        guard changes > 0 else { return }
        try ReplicaSettings.set(db, .counter, String(settings.counter))
        try ReplicaSettings.set(db, .clock, clock.last.description)
    }
}

/// A local write staged (``LocalWriter/stage(_:record:makeChange:)``), to be encoded.
struct StagedWrite: Sendable {
    let merged: RecordState
    let change: Change
    /// The record before the write; nil for a new one.
    let existing: RecordState?
    let admission: LocalAdmission

    func encoded() throws -> EncodedWrite {
        let body = try Replica.json(change)
        return EncodedWrite(
            record: try StoredRecord(merged), changeID: change.id, body: body,
            refusal: admission.refusal(of: change, existing: existing, bytes: Change.encodedBytes(replicaJSON: body)))
    }
}

/// A local write ready to store (``LocalWriter/commit(_:_:)``).
struct EncodedWrite: Sendable {
    let record: StoredRecord
    let changeID: String
    /// The change as the outbox stores it.
    let body: String
    let refusal: ClientError?
}

/// Staged writes encoded on another thread: an import stores one batch while the next is
/// encoded (the encodings were a third of an import's time on one core).
final class EncodingJob: @unchecked Sendable {
    private let done = DispatchGroup()
    // Written once on the encoding thread; read after `done` says it was.
    private var result: Result<[EncodedWrite], any Error> = .success([])

    init(_ writes: [StagedWrite]) {
        DispatchQueue.global().async(group: done) {
            self.result = Result { try writes.map { try $0.encoded() } }
        }
    }

    /// The encoded writes, in order, once they are.
    func wait() throws -> [EncodedWrite] {
        done.wait()
        return try result.get()
    }
}
