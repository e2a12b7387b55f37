import HavenCore
import Testing
import TestSupport

/// A deterministic simulation of five replicas and one in-memory server that follows the merge
/// rules of DESIGN §3 with Core's own types: replicas edit offline with skewed clocks, sync now
/// and then, and in the end must all hold the server's state, with every lost write reported.
struct ConvergenceSimulationTests {
    @Test(arguments: 0..<200)
    func replicasConvergeAndEveryLostWriteIsReported(seed: Int) {
        // Given five replicas with clocks up to an hour wrong, editing for 150 steps
        var simulation = Simulation(seed: UInt64(seed))
        for _ in 0..<150 { simulation.step() }

        // When every replica comes online and syncs twice
        simulation.finish()

        // Then every replica holds exactly the server's state
        let serverState = simulation.server.mapValues(\.state)
        for replica in simulation.replicas {
            let difference = Simulation.firstDifference(replica.records, serverState)
            #expect(difference == nil, "seed \(seed), replica \(replica.id): \(difference ?? "")")
        }

        // And that state is the plain merge of every change in the log, in log order
        let folded = simulation.log.reduce(into: [String: RecordState]()) { states, change in
            states[change.record.id, default: RecordState(id: change.record.id, kind: change.record.kind)]
                .merge(change.record)
        }
        #expect(folded == serverState, "seed \(seed)")

        // And no write was lost without a word
        let unreported = simulation.lostWritesWithoutConflict()
        #expect(unreported.isEmpty, "seed \(seed): lost writes never reported: \(unreported)")
        let hidden = simulation.hiddenWritesWithoutConflict()
        #expect(hidden.isEmpty, "seed \(seed): writes hidden by a delete never reported: \(hidden)")

        // And every conflict is warranted: a real write of its recipient that lost to a write it had not seen
        let unwarranted = simulation.unwarrantedConflicts()
        #expect(unwarranted.isEmpty, "seed \(seed): unwarranted conflicts: \(unwarranted)")
    }

    @Test func simulationsExerciseConflictsDeletesRestoresAndRefusedStamps() {
        // Given forty runs on seeds the test above does not use
        var totals = Simulation.Statistics()
        for seed in 1_000..<1_040 {
            var simulation = Simulation(seed: UInt64(seed))
            for _ in 0..<150 { simulation.step() }
            simulation.finish()
            totals.add(simulation.statistics)
        }

        // Then the simulation is not vacuous: every path the assertions above rely on is taken
        #expect(totals.overwritten > 0)
        #expect(totals.deletedConflicts > 0)
        #expect(totals.deletes > 0 && totals.restores > 0)
        #expect(totals.refusedStamps > 0)
        #expect(totals.lostWrites > 0)
        #expect(totals.finalDeletedRecords > 0)
    }

    @Test func sameSeedReplaysTheSameRun() {
        var first = Simulation(seed: 42)
        var second = Simulation(seed: 42)
        for _ in 0..<150 {
            first.step()
            second.step()
        }
        first.finish()
        second.finish()

        // Conflicts from one change come in dictionary order, so compare them as multisets.
        #expect(first.log == second.log)
        #expect(
            first.conflicts.map(String.init(describing:)).sorted()
                == second.conflicts.map(String.init(describing:)).sorted())
        #expect(first.log.count > 20)
    }
}

private struct Simulation {
    struct Replica {
        let id: ReplicaID
        var clock: HybridLogicalClock
        var records: [String: RecordState] = [:]
        var outbox: [Change] = []
        var cursor: Int64 = 0
        var online = true
        var changes = 0
    }

    /// One register written by one replica, with the writer's local copy of the record just before.
    struct Write: CustomStringConvertible {
        let replica: String
        let recordID: String
        /// The field, or `"deleted"` for the flag.
        let field: String
        let value: JSONValue
        let stamp: Timestamp
        let before: RecordState?

        var description: String { "\(replica) \(recordID.prefix(8)).\(field)=\(value) @\(stamp)" }
    }

    struct Statistics {
        var overwritten = 0
        var deletedConflicts = 0
        var deletes = 0
        var restores = 0
        var refusedStamps = 0
        var lostWrites = 0
        var finalDeletedRecords = 0

        mutating func add(_ other: Statistics) {
            overwritten += other.overwritten
            deletedConflicts += other.deletedConflicts
            deletes += other.deletes
            restores += other.restores
            refusedStamps += other.refusedStamps
            lostWrites += other.lostWrites
            finalDeletedRecords += other.finalDeletedRecords
        }
    }

    static let start: UInt64 = 1_700_000_000_000
    static let hour = 3_600_000
    static let editableFields: [RecordKind: [String]] = [
        .story: ["title", "body", "summary", "tags", "x_note"],
        .resource: ["name", "description", "phone", "region", "x_note"],
    ]

    private var rng: SplitMix64
    private let time = ManualClock(start)
    private(set) var replicas: [Replica] = []
    private(set) var server: [String: TrackedRecord] = [:]
    /// The server's append-only log: the change at index i has seq i + 1.
    private(set) var log: [Change] = []
    private(set) var conflicts: [Conflict] = []
    private(set) var writes: [Write] = []
    private var refusedStamps = 0
    private var nextValue = 0

    init(seed: UInt64, replicaCount: Int = 5) {
        rng = SplitMix64(seed: seed)
        for index in 0..<replicaCount {
            let id = ReplicaID(String(rng.next() % 1_000_000, radix: 36) + "r\(index)")!
            let offset = Int64(rng.int(in: -Self.hour...Self.hour))
            replicas.append(Replica(id: id, clock: HybridLogicalClock(replica: id, wallClock: time.skewed(by: offset))))
        }
    }

    // MARK: Running

    /// Advances shared time and lets one random replica do one random thing.
    mutating func step() {
        time.advance(by: Int64(rng.chance(10) ? rng.int(in: 0...600_000) : rng.int(in: 0...3_000)))
        let r = rng.int(in: 0...(replicas.count - 1))
        switch rng.int(in: 0...99) {
        case 0..<8: create(r)
        case 8..<50: edit(r)
        case 50..<57: setDeleted(r, true)
        case 57..<62: setDeleted(r, false)
        case 62..<70: replicas[r].online.toggle()
        default: if replicas[r].online { sync(r) }
        }
    }

    /// Every replica comes online and syncs twice: the first round pushes everything, the second pulls it.
    mutating func finish() {
        for _ in 0..<2 {
            for r in replicas.indices {
                replicas[r].online = true
                sync(r)
            }
        }
    }

    private mutating func create(_ r: Int) {
        let kind: RecordKind = rng.chance(50) ? .story : .resource
        let values: [String: JSONValue] =
            switch kind {
            case .story: ["title": uniqueValue(r), "body": uniqueValue(r), "language": rng.chance(50) ? "en" : "ko"]
            case .resource:
                ["name": uniqueValue(r), "category": .string(rng.pick(RecordSchema.categories)), "country": "KR"]
            }
        write(r, RecordState(id: rng.uuid(), kind: kind), values: values)
    }

    private mutating func edit(_ r: Int) {
        guard let record = pickRecord(r, deleted: false) else { return }
        var names = Self.editableFields[record.kind]!
        var values: [String: JSONValue] = [:]
        for _ in 0..<rng.int(in: 1...3) {
            let name = names.remove(at: rng.int(in: 0...(names.count - 1)))
            values[name] = name == "tags" ? .array([uniqueValue(r)]) : uniqueValue(r)
        }
        write(r, record, values: values)
    }

    private mutating func setDeleted(_ r: Int, _ deleted: Bool) {
        guard let record = pickRecord(r, deleted: !deleted) else { return }
        write(r, record, values: [:], deleted: deleted)
    }

    /// A random record this replica knows, deleted or not (sorted first so that runs replay).
    private mutating func pickRecord(_ r: Int, deleted: Bool) -> RecordState? {
        let candidates = replicas[r].records.values.filter { $0.isDeleted == deleted }.sorted { $0.id < $1.id }
        return candidates.isEmpty ? nil : rng.pick(candidates)
    }

    private mutating func uniqueValue(_ r: Int) -> JSONValue {
        nextValue += 1
        return .string("\(replicas[r].id)#\(nextValue)")
    }

    /// A local edit: stamp it, merge it into the replica and append it to the outbox.
    private mutating func write(_ r: Int, _ record: RecordState, values: [String: JSONValue], deleted: Bool? = nil) {
        let stamp = replicas[r].clock.now()
        let change = RecordState(
            id: record.id, kind: record.kind, fields: values.mapValues { Register($0, stamp: stamp) },
            deleted: deleted.map { Register(.bool($0), stamp: stamp) })
        let before = replicas[r].records[record.id]
        replicas[r].records[record.id, default: RecordState(id: record.id, kind: record.kind)].merge(change)
        replicas[r].changes += 1
        replicas[r].outbox.append(
            Change(
                id: "\(replicas[r].id)-\(replicas[r].changes)",
                base: SyncCursor(epoch: "5eed", seq: replicas[r].cursor),
                record: change))

        let writer = replicas[r].id.rawValue
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            writes.append(
                Write(replica: writer, recordID: record.id, field: name, value: value, stamp: stamp, before: before))
        }
        if let deleted {
            writes.append(
                Write(
                    replica: writer, recordID: record.id, field: "deleted", value: .bool(deleted), stamp: stamp,
                    before: before))
        }
    }

    private mutating func sync(_ r: Int) {
        push(r)
        pull(r)
    }

    /// Applies the outbox in order, each change at the next log position, seen = the cursor it was made at.
    private mutating func push(_ r: Int) {
        for change in replicas[r].outbox {
            log.append(change)
            var record = server[change.record.id] ?? TrackedRecord(id: change.record.id, kind: change.record.kind)
            conflicts += record.apply(
                change.record, seq: Int64(log.count), author: replicas[r].id.rawValue, seen: change.base?.seq ?? 0)
            server[change.record.id] = record
        }
        replicas[r].outbox.removeAll()
    }

    /// Sends each record changed after the replica's cursor, only the registers changed after it.
    private mutating func pull(_ r: Int) {
        let cursor = replicas[r].cursor
        for id in server.keys.sorted() where server[id]!.lastSeq > cursor {
            let delta = server[id]!.delta(since: cursor)
            replicas[r].records[id, default: RecordState(id: id, kind: delta.kind)].merge(delta)
            for stamp in (delta.fields.values.map(\.stamp) + [delta.deleted?.stamp].compactMap { $0 }).sorted() {
                do {
                    try replicas[r].clock.receive(stamp)
                } catch {
                    refusedStamps += 1
                }
            }
        }
        replicas[r].cursor = Int64(log.count)
    }

    // MARK: Checking

    private static func register(_ state: RecordState?, _ field: String) -> Register? {
        field == "deleted" ? state?.deleted : state?.fields[field]
    }

    private struct ConflictKey: Hashable {
        let recordID: String
        let field: String
        let value: JSONValue
        let stamp: Timestamp
        let recipient: String
    }

    private func key(_ write: Write) -> ConflictKey {
        ConflictKey(
            recordID: write.recordID, field: write.field, value: write.value, stamp: write.stamp,
            recipient: write.replica)
    }

    private func key(_ conflict: Conflict) -> ConflictKey {
        ConflictKey(
            recordID: conflict.recordID, field: conflict.field, value: conflict.value, stamp: conflict.stamp,
            recipient: conflict.recipient)
    }

    /// Writes whose value is not in the final state, that neither their own replica overwrote later
    /// nor another replica overwrote knowingly (holding exactly that register when it wrote), and
    /// for which no conflict was reported.
    func lostWritesWithoutConflict() -> [Write] {
        let reported = Set(conflicts.map(key))
        let byRegister = Dictionary(grouping: writes) { "\($0.recordID)/\($0.field)" }
        return lostWrites().filter { write in
            let rivals = byRegister["\(write.recordID)/\(write.field)"]!
            let overwrittenByItsAuthor = rivals.contains { $0.replica == write.replica && $0.stamp > write.stamp }
            let overwrittenKnowingly = rivals.contains {
                $0.replica != write.replica && Self.register($0.before, write.field)?.stamp == write.stamp
            }
            return !overwrittenByItsAuthor && !overwrittenKnowingly && !reported.contains(key(write))
        }
    }

    /// Writes whose value the final state does not hold.
    private func lostWrites() -> [Write] {
        writes.filter { Self.register(server[$0.recordID]?.state, $0.field)?.value != $0.value }
    }

    /// Field writes that hold their register in the end but sit on a tombstone made by another replica
    /// where neither the writer had seen the delete nor the deleter the write, with no `.deleted` conflict.
    func hiddenWritesWithoutConflict() -> [Write] {
        let reported = Set(conflicts.filter { $0.reason == .deleted }.map(key))
        return writes.filter { write in
            guard write.field != "deleted", let state = server[write.recordID]?.state, state.isDeleted,
                let tombstone = state.deleted, state.fields[write.field]?.stamp == write.stamp,
                tombstone.stamp.replica.rawValue != write.replica, write.before?.deleted?.stamp != tombstone.stamp
            else { return false }
            let deletion = writes.first {
                $0.recordID == write.recordID && $0.field == "deleted" && $0.stamp == tombstone.stamp
            }
            let deleterHadSeenIt = deletion?.before?.fields[write.field]?.stamp == write.stamp
            return !deleterHadSeenIt && !reported.contains(key(write))
        }
    }

    /// Conflicts that should not exist: about no write of their recipient, between a replica and itself,
    /// with an overwritten loser that outranks its winner, or where one side had seen the other.
    func unwarrantedConflicts() -> [Conflict] {
        let written = Dictionary(writes.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let byStamp = Dictionary(
            writes.map { ("\($0.recordID)/\($0.field)/\($0.stamp)", $0) }, uniquingKeysWith: { first, _ in first })
        return conflicts.filter { conflict in
            guard let loser = written[key(conflict)], conflict.winner.replica != conflict.stamp.replica else {
                return true
            }
            switch conflict.reason {
            case .overwritten:
                guard let winner = byStamp["\(conflict.recordID)/\(conflict.field)/\(conflict.winner)"] else {
                    return true
                }
                let winnerHadSeenLoser = Self.register(winner.before, conflict.field)?.stamp == conflict.stamp
                return !(conflict.winner > conflict.stamp) || winnerHadSeenLoser
            case .deleted:
                guard let deletion = byStamp["\(conflict.recordID)/deleted/\(conflict.winner)"],
                    deletion.value == .bool(true)
                else { return true }
                let deleterHadSeenEdit = deletion.before?.fields[conflict.field]?.stamp == conflict.stamp
                let editorHadSeenDelete = loser.before?.deleted?.stamp == conflict.winner
                return deleterHadSeenEdit || editorHadSeenDelete
            }
        }
    }

    var statistics: Statistics {
        Statistics(
            overwritten: conflicts.count { $0.reason == .overwritten },
            deletedConflicts: conflicts.count { $0.reason == .deleted },
            deletes: writes.count { $0.field == "deleted" && $0.value == .bool(true) },
            restores: writes.count { $0.field == "deleted" && $0.value == .bool(false) },
            refusedStamps: refusedStamps,
            lostWrites: lostWrites().count,
            finalDeletedRecords: server.values.count(where: \.isDeleted))
    }

    /// Describes the first record on which two sets of states disagree, or nil when they are equal.
    static func firstDifference(_ lhs: [String: RecordState], _ rhs: [String: RecordState]) -> String? {
        for id in Set(lhs.keys).union(rhs.keys).sorted() where lhs[id] != rhs[id] {
            return
                "record \(id): \(lhs[id].map { "\($0)" } ?? "missing") versus \(rhs[id].map { "\($0)" } ?? "missing")"
        }
        return nil
    }
}
