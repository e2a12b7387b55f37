import Foundation
import GRDB
import HavenCore

/// The outbox beyond a plain push: rejected changes kept and re-queued, changes too large to
/// send, stamps corrected after `clock_ahead`, and the sizes and times a sync leaves behind.
///
/// Rule 1. What leaves the outbox and what stays: <doc:SyncAndResume>, rule 2.
///
/// Rule 2. An edit of a record with rejected changes re-sends what they wrote: every register
/// of theirs that the record still holds goes into the new change, stamped now. Registers a
/// later write has replaced are not re-sent; they would lose to that write anyway.
///
/// Rule 3. After `clock_ahead` (<doc:SyncAndResume>, rule 5), every unsent change stamped ahead
/// of the server's clock is stamped again, and the replica's clock is moved back to match.
///
/// Rule 4. A replica that finds it was copied or restored (`takeNewIdentity()`)
/// stamps and names every unsent change again under a new replica id, so that two devices never
/// send different changes under one id, and each device's writes count as its own.
extension Replica {
    /// Unsent changes as the outbox stores them, oldest first, ready to send without decoding.
    public struct PendingBatch: Sendable, Equatable {
        /// The change ids, in outbox order.
        public var ids: [String]
        /// Each change's JSON, as stored (one `Change` each).
        public var bodies: [String]
        /// Whether `maxBytes` ended the batch before `limit` did.
        public var cutByBytes: Bool

        /// Whether the outbox had nothing to send.
        public var isEmpty: Bool { ids.isEmpty }
        /// How many changes the batch holds.
        public var count: Int { ids.count }

        /// The body of `POST /v1/changes` for these changes: `{"changes":[…]}`, built from the
        /// stored JSON, so a push decodes and encodes nothing.
        public var requestBody: Data {
            var data = Data()
            data.reserveCapacity(bodies.reduce(16) { $0 + $1.utf8.count + 1 })
            data.append(contentsOf: #"{"changes":["#.utf8)
            for (index, body) in bodies.enumerated() {
                if index > 0 { data.append(UInt8(ascii: ",")) }
                data.append(contentsOf: body.utf8)
            }
            data.append(contentsOf: "]}".utf8)
            return data
        }

        /// The change at `index`, decoded.
        public func change(at index: Int) throws -> Change { try Replica.decode(Change.self, bodies[index]) }
    }

    /// Up to `limit` unsent changes, oldest first, as stored, stopping before the one that would
    /// take their JSON beyond `maxBytes` (the first one is always taken); changes in `excluding`
    /// (sent, their answer not yet written) are passed over.
    package func pendingBatch(limit: Int, maxBytes: Int = .max, excluding: Set<String> = []) throws -> PendingBatch {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT change_id, body FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT ?",
                arguments: [limit + excluding.count])
            var batch = PendingBatch(ids: [], bodies: [], cutByBytes: false)
            var bytes = 0
            while batch.count < limit, let row = try rows.next() {
                let id: String = row["change_id"]
                guard !excluding.contains(id) else { continue }
                let body: String = row["body"]
                bytes += body.utf8.count + 1
                if bytes > maxBytes, !batch.isEmpty {
                    batch.cutByBytes = true
                    break
                }
                batch.ids.append(id)
                batch.bodies.append(body)
            }
            return batch
        }
    }

    /// Whether every change in `ids` is still in the outbox, unsent: a batch read ahead is sent
    /// only then (SyncEngine).
    package func arePending(_ ids: [String]) throws -> Bool {
        try database.read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM outbox WHERE change_id = ? AND status = 'pending'")
            return try ids.allSatisfy { try Bool.fetchOne(statement, arguments: [$0]) != nil }
        }
    }

    /// Marks one unsent change rejected for `reason`, without the server's word (a single change
    /// answered 413).
    package func rejectLocally(_ changeID: String, reason: ErrorDetail) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE outbox SET status = 'rejected', error = ? WHERE change_id = ? AND status = 'pending'",
                arguments: [Self.rejectionText(reason), changeID])
        }
    }

    /// Queues rejected changes again as they are, for `haven retry`: all of them, or those of the
    /// record or change whose id is or starts with `id`.
    ///
    /// - Returns: how many were queued.
    /// - Throws: ``ClientError`` when `id` matches no rejected change.
    @discardableResult
    public func retryRejected(_ id: String? = nil) throws -> Int {
        try database.write { db in
            var sql = "UPDATE outbox SET status = 'pending', error = NULL WHERE status = 'rejected'"
            var arguments: StatementArguments = []
            if let id = id?.lowercased() {
                let pattern =
                    id.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                sql += " AND (record_id LIKE ? ESCAPE '\\' OR change_id = ?)"
                arguments = [pattern, id]
            }
            try db.execute(sql: sql, arguments: arguments)
            let count = db.changesCount
            if let id, count == 0 {
                throw ClientError(
                    Words(
                        "no rejected change for \(id): see 'haven status' for the rejected ones",
                        korean: "\(id)에는 거부된 변경이 없습니다: 거부된 변경은 'haven status'에서 보세요"))
            }
            return count
        }
    }

    /// Takes the rejected changes of `record` out of the outbox and returns the registers of
    /// theirs that the record still holds, in the caller's transaction (rule 2).
    func takeRejected(_ db: Database, of record: RecordState) throws -> RecordState {
        var kept = RecordState(id: record.id, kind: record.kind)
        // Cached: an import runs it once a record.
        let bodies = try String.fetchAll(
            db.cachedStatement(sql: "SELECT body FROM outbox WHERE record_id = ? AND status = 'rejected' ORDER BY seq"),
            arguments: [record.id])
        guard !bodies.isEmpty else { return kept }
        for body in bodies {
            let change = try Self.decode(Change.self, body)
            for (name, register) in change.record.fields where record.fields[name] == register {
                kept.fields[name] = register
            }
            if let deleted = change.record.deleted, record.deleted == deleted { kept.deleted = deleted }
        }
        try db.execute(sql: "DELETE FROM outbox WHERE record_id = ? AND status = 'rejected'", arguments: [record.id])
        return kept
    }

    /// Stamps again, from the clock corrected by the server's offset, every unsent change that
    /// carries a stamp of this replica ahead of the server's clock, and the registers of the
    /// records that still hold those stamps (rule 3). Changes rejected `clock_ahead` are queued
    /// again; other rejected ones are left alone.
    ///
    /// - Returns: how many changes were stamped again.
    @discardableResult
    package func restampChangesAhead() throws -> Int {
        try database.write { db in
            let settings = try ReplicaSettings.load(db)
            let serverNow = UInt64(max(0, Int64(wallClock()) + settings.serverOffset))
            let replicaID = settings.replicaID
            var clock = HybridLogicalClock(replica: replicaID, last: nil) { serverNow }
            let restamped = try restamp(
                db, with: &clock, requeuing: .clockAhead,
                isStale: { $0.replica == replicaID && $0.physical > serverNow })
            guard restamped > 0 else { return 0 }
            // Later edits continue from the corrected clock, not from the stamps just replaced.
            try ReplicaSettings.set(db, .clock, clock.last.description)
            return restamped
        }
    }

    /// Gives the replica a new random id, and stamps and names again under it every unsent
    /// change, and those rejected `change_id_conflict` (rule 4): for a replica copied to another
    /// device, or restored from a backup, whose ids another copy may use too.
    ///
    /// - Returns: how many changes were named again.
    @discardableResult
    package func takeNewIdentity() throws -> Int {
        try database.write { db in try takeNewIdentity(db) }
    }

    func takeNewIdentity(_ db: Database) throws -> Int {
        var settings = try ReplicaSettings.load(db)
        let old = settings.replicaID
        settings.replicaID = ReplicaID.random()
        try ReplicaSettings.set(db, .replicaID, settings.replicaID.rawValue)
        // Continuing from the last stamp, the new ones order after every write the replica knows.
        var clock = clock(settings)
        var counter = settings.counter
        let renamed = try restamp(db, with: &clock, requeuing: .changeIDConflict, isStale: { $0.replica == old }) {
            counter += 1
            return "\(settings.replicaID)-\(counter)"
        }
        try ReplicaSettings.set(db, .counter, String(counter))
        try ReplicaSettings.set(db, .clock, clock.last.description)
        return renamed
    }

    /// Stamps again with `clock` every outbox change whose latest stamp `isStale` picks, pending
    /// or rejected with `code`, and the registers of its record that still hold its stamps;
    /// queues it again, under the id `newID` gives when there is one.
    private func restamp(
        _ db: Database, with clock: inout HybridLogicalClock, requeuing code: ErrorCode,
        isStale: (Timestamp) -> Bool, newID: (() -> String)? = nil
    ) throws -> Int {
        let rows = try Row.fetchAll(db, sql: "SELECT change_id, body, status, error FROM outbox ORDER BY seq")
        var restamped = 0
        for row in rows {
            if row["status"] as String == "rejected", Self.rejection(from: row["error"]).code != code { continue }
            var change = try Self.decode(Change.self, row["body"] as String)
            guard let latest = change.record.latestStamp, isStale(latest) else { continue }
            let recordRow = try String.fetchOne(
                db, sql: "SELECT state FROM records WHERE id = ?", arguments: [change.record.id])
            var record = try recordRow.map { try Self.decode(RecordState.self, $0) }
            // The new stamp must still order after the record's sound registers.
            for register in record.map(Self.registers) ?? [] where !isStale(register.stamp) {
                clock.witness(register.stamp)
            }
            let stamp = clock.now()
            for (name, register) in change.record.fields {
                if record?.fields[name] == register {
                    record?.fields[name] = Register(register.value, stamp: stamp)
                }
                change.record.fields[name] = Register(register.value, stamp: stamp)
            }
            if let deleted = change.record.deleted {
                if record?.deleted == deleted { record?.deleted = Register(deleted.value, stamp: stamp) }
                change.record.deleted = Register(deleted.value, stamp: stamp)
            }
            if let record { try save(db, record) }
            let oldID = change.id
            if let newID { change.id = newID() }
            try db.execute(
                sql: "UPDATE outbox SET change_id = ?, body = ?, status = 'pending', error = NULL WHERE change_id = ?",
                arguments: [change.id, try Self.json(change), oldID])
            restamped += 1
        }
        return restamped
    }

    /// Keeps the sizes the link last allowed, for the next run.
    package func saveSyncSizes(batch: Int, page: Int) throws {
        try database.write { db in
            try ReplicaSettings.set(db, .batchSize, String(batch))
            try ReplicaSettings.set(db, .pageSize, String(page))
        }
    }

    /// Marks a pull that reached the end of the log: the cursor is current as of now.
    package func recordPullFinished() throws {
        try database.write { db in try ReplicaSettings.set(db, .lastPull, String(wallClock())) }
    }

    /// How a rejection is kept in the outbox's `error` column: the server's detail as JSON.
    static func rejectionText(_ detail: ErrorDetail?) -> String {
        (try? json(detail ?? ErrorDetail(code: .rejected, message: "rejected without a reason")))
            ?? "rejected"
    }

    /// A rejection read back from the outbox; older rows hold "message (code)".
    static func rejection(from text: String?) -> ErrorDetail {
        let text = text ?? ""
        if let detail = try? decode(ErrorDetail.self, text) { return detail }
        if text.hasSuffix(")"), let open = text.range(of: " (", options: .backwards) {
            return ErrorDetail(
                code: ErrorCode(rawValue: String(text[open.upperBound..<text.index(before: text.endIndex)])),
                message: String(text[..<open.lowerBound]))
        }
        return ErrorDetail(code: .rejected, message: text)
    }

    private static func registers(_ record: RecordState) -> [Register] {
        Array(record.fields.values) + [record.deleted].compactMap { $0 }
    }
}
