/// A record as the server holds it: each register also remembers where in the change log it was
/// set and by whom, so that pulls can send only what changed and losing writes can be reported.
public struct TrackedRecord: Sendable, Hashable, Codable {
    /// A register with its log position and author.
    public struct Entry: Sendable, Hashable, Codable {
        /// The value and its stamp.
        public var register: Register
        /// The `seq` of the change that set this register.
        public var seq: Int64
        /// The id of the author (a token id on the server) whose change set it.
        public var author: String

        /// `register`, set by the change at `seq` from `author`.
        public init(_ register: Register, seq: Int64, author: String) {
            self.register = register
            self.seq = seq
            self.author = author
        }
    }

    /// Lowercase UUID.
    public let id: String
    /// Whether the record is a story or a resource; it never changes.
    public let kind: RecordKind
    /// Field name → register, with where in the log each was set.
    public var fields: [String: Entry]
    /// The `deleted` register; nil when the record was never deleted.
    public var deleted: Entry?
    /// The largest `seq` among the registers: the last change that altered this record.
    public var lastSeq: Int64

    /// An empty record, before any change.
    public init(id: String, kind: RecordKind) {
        self.id = id
        self.kind = kind
        self.fields = [:]
        self.deleted = nil
        self.lastSeq = 0
    }

    /// Whether the record is a tombstone.
    public var isDeleted: Bool { deleted?.register.value == .bool(true) }

    /// The merged state without provenance.
    public var state: RecordState {
        RecordState(id: id, kind: kind, fields: fields.mapValues(\.register), deleted: deleted?.register)
    }

    /// The registers set by changes after `seq`: what a puller at cursor `seq` has not seen.
    public func delta(since seq: Int64) -> RecordState {
        RecordState(
            id: id, kind: kind,
            fields: fields.filter { $0.value.seq > seq }.mapValues(\.register),
            deleted: deleted.flatMap { $0.seq > seq ? $0.register : nil })
    }

    /// Applies one change by the merge rules and returns the conflicts it causes.
    ///
    /// - Parameters:
    ///   - change: the registers the change writes.
    ///   - seq: the change's position in the log.
    ///   - author: who made the change.
    ///   - seen: the log position its author had seen when making it; registers set after that
    ///     were unknown to the author, so overwriting them, or losing to them, is a conflict.
    /// - Returns: one ``Conflict`` for each write that lost without its author having seen the winner.
    public mutating func apply(_ change: RecordState, seq: Int64, author: String, seen: Int64) -> [Conflict] {
        precondition(change.id == id && change.kind == kind, "applying a change to another record")
        var conflicts: [Conflict] = []
        let incoming = { (register: Register) in Entry(register, seq: seq, author: author) }

        // The flag first, so that field writes below see whether they land on a tombstone.
        if let flag = change.deleted {
            let (kept, found) = settle("deleted", current: deleted, incoming: incoming(flag), seen: seen)
            deleted = kept
            lastSeq = max(lastSeq, kept.seq)
            conflicts += found
            if deleted?.seq == seq, isDeleted {
                // A delete hides every field written after what its author had seen. (An edit that
                // landed on an earlier tombstone may be reported again: better twice than never.)
                for (name, entry) in fields.sorted(by: { $0.key < $1.key })
                where entry.seq > seen && entry.register.stamp.replica != flag.stamp.replica {
                    conflicts.append(conflict(field: name, loser: entry, winner: deleted!, reason: .deleted))
                }
            }
        }
        for (name, register) in change.fields.sorted(by: { $0.key < $1.key }) {
            let (kept, found) = settle(name, current: fields[name], incoming: incoming(register), seen: seen)
            fields[name] = kept
            lastSeq = max(lastSeq, kept.seq)
            conflicts += found
            if fields[name]?.seq == seq, isDeleted, let tombstone = deleted, tombstone.seq > seen,
                tombstone.register.stamp.replica != register.stamp.replica
            {
                // A delete is sticky (HavenCore.docc/MergeRules.md, rule 3): reported to the edit's author.
                conflicts.append(conflict(field: name, loser: fields[name]!, winner: tombstone, reason: .deleted))
            }
        }
        return conflicts
    }

    /// Keeps the register with the larger stamp and reports the loser if it had not seen the winner.
    private func settle(_ name: String, current: Entry?, incoming: Entry, seen: Int64) -> (Entry, [Conflict]) {
        guard let current else { return (incoming, []) }
        // Losing to one's own later write loses nothing. Losing to an equal value is still
        // reported: a later write may change that value without its author having seen ours.
        let sameReplica = current.register.stamp.replica == incoming.register.stamp.replica
        if incoming.register.stamp > current.register.stamp {
            // Overwriting a value the writer had seen is an ordinary edit, not a conflict.
            guard current.seq > seen, !sameReplica else { return (incoming, []) }
            return (incoming, [conflict(field: name, loser: current, winner: incoming, reason: .overwritten)])
        }
        guard incoming.register.stamp < current.register.stamp, !sameReplica else { return (current, []) }
        return (current, [conflict(field: name, loser: incoming, winner: current, reason: .overwritten)])
    }

    private func conflict(field: String, loser: Entry, winner: Entry, reason: Conflict.Reason) -> Conflict {
        Conflict(
            recordID: id, kind: kind, field: field, value: loser.register.value, stamp: loser.register.stamp,
            winner: winner.register.stamp, winnerAuthor: winner.author, reason: reason, recipient: loser.author)
    }
}

/// A write that lost: reported to its author so that no write is lost without a word.
public struct Conflict: Sendable, Hashable, Codable {
    /// Why the write lost.
    public enum Reason: String, Sendable, Hashable, Codable {
        /// A concurrent write with a larger stamp won the register.
        case overwritten
        /// The record was deleted by someone who had not seen this write, or this write landed
        /// on a delete its author had not seen.
        case deleted
    }

    /// The record the write was about.
    public var recordID: String
    /// The record's kind.
    public var kind: RecordKind
    /// The field that lost (`"deleted"` for the flag).
    public var field: String
    /// The losing value.
    public var value: JSONValue
    /// The losing write's stamp.
    public var stamp: Timestamp
    /// The winning write's stamp.
    public var winner: Timestamp
    /// Who made the winning write.
    public var winnerAuthor: String
    /// Why the write lost.
    public var reason: Reason
    /// Who made the losing write and should hear about it.
    public var recipient: String

    /// A conflict: `recipient`'s write of `value` at `stamp` to `field` of `recordID` lost to `winnerAuthor`'s at `winner`.
    public init(
        recordID: String, kind: RecordKind, field: String, value: JSONValue, stamp: Timestamp, winner: Timestamp,
        winnerAuthor: String, reason: Reason, recipient: String
    ) {
        self.recordID = recordID
        self.kind = kind
        self.field = field
        self.value = value
        self.stamp = stamp
        self.winner = winner
        self.winnerAuthor = winnerAuthor
        self.reason = reason
        self.recipient = recipient
    }
}
