import Foundation
import HavenCore

/// A record's create or edit form: what was typed in each known field, what is wrong with it in
/// words (``RecordSchema``'s own), and the change it makes.
struct RecordForm: Sendable {
    let kind: RecordKind
    /// What each field holds as typed: kept as it was when the form comes back with problems.
    var typed: [String: String]
    /// What is wrong, by field name.
    var problems: [String: Words] = [:]

    /// Fields typed as a comma-separated list.
    static let listFields: Set = ["tags", "languages"]

    /// The fields the form edits: every known one but `media`, whose files are added with
    /// `haven media add` and which the form keeps as it is.
    static func fields(of kind: RecordKind) -> [String] {
        RecordSchema.knownFields(of: kind).filter { $0 != "media" }
    }

    /// The form for `record`'s current values, or an empty one.
    init(kind: RecordKind, record: TrackedRecord?) {
        self.kind = kind
        let values = record?.state.values ?? [:]
        typed = values.mapValues(Self.display)
    }

    /// The form as posted.
    init(kind: RecordKind, posted form: ConsoleForm) {
        self.kind = kind
        typed = Dictionary(uniqueKeysWithValues: Self.fields(of: kind).map { ($0, form.text($0)) })
    }

    /// The known fields' values: an empty field is absent, a list is split at commas.
    var values: [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for field in Self.fields(of: kind) {
            let text = (typed[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            if Self.listFields.contains(field) {
                let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                values[field] = .array(items.filter { !$0.isEmpty }.map(JSONValue.string))
            } else {
                values[field] = .string(text)
            }
        }
        return values
    }

    /// Checks every field by the schema and notes each problem beside its field; true when none.
    mutating func validate() -> Bool {
        let values = values
        for field in RecordSchema.requiredFields(of: kind) where values[field] == nil {
            problems[field] = ValidationError.missing(field, kind: kind).words
        }
        for (field, value) in values {
            do {
                try RecordSchema.validate(field: field, value: value, kind: kind)
            } catch {
                problems[field] = error.words
            }
        }
        return problems.isEmpty
    }

    /// The change that makes `record` (nil for a new one) say what the form says: the known
    /// fields whose value differs, each stamped after the record's newest write; nil when
    /// nothing differs. Fields this version does not know are left as they are. An edit of
    /// content that leaves the status as it was sends a record in review or published back to
    /// draft, as a client's edit does (``ReviewRule``, rule 1).
    func change(to record: TrackedRecord?, id: String, by caller: Caller, now: UInt64, base: SyncCursor?, review: ReviewPolicy)
        -> Change?
    {
        let current = record?.state.values ?? [:]
        let values = values
        var written: [String: JSONValue] = [:]
        for field in Self.fields(of: kind) where values[field] != current[field] {
            written[field] = values[field] ?? .null
        }
        guard !written.isEmpty else { return nil }
        if record != nil, written["status"] == nil, written.keys.contains(where: ReviewRule.isContent),
            let status = ReviewRule.statusForEdit(of: current["status"]?.stringValue, by: caller.role, policy: review)
        {
            written["status"] = .string(status)
        }
        let stamp = Self.stamp(after: record?.state.latestStamp, by: caller, now: now)
        return Change(
            id: Self.changeID(), base: base,
            record: RecordState(id: id, kind: kind, fields: written.mapValues { Register($0, stamp: stamp) }))
    }

    /// The change that moves `record` to `status` with `comment` as its review comment (nil
    /// clears an earlier one, so that it does not read as this move's): the move a `haven review`
    /// or `submit` command pushes.
    static func statusMove(
        of record: TrackedRecord, to status: String, comment: String?, by caller: Caller, now: UInt64, base: SyncCursor?
    ) -> Change {
        let stamp = stamp(after: record.state.latestStamp, by: caller, now: now)
        let values: [String: JSONValue] = ["status": .string(status), ReviewRule.commentField: comment.map(JSONValue.string) ?? .null]
        return Change(
            id: changeID(), base: base,
            record: RecordState(id: record.id, kind: record.kind, fields: values.mapValues { Register($0, stamp: stamp) }))
    }

    /// The change that deletes (or restores) `record`.
    static func deletion(_ deleted: Bool, of record: TrackedRecord, by caller: Caller, now: UInt64, base: SyncCursor?)
        -> Change
    {
        let stamp = stamp(after: record.state.latestStamp, by: caller, now: now)
        return Change(
            id: changeID(), base: base,
            record: RecordState(id: record.id, kind: record.kind, deleted: Register(.bool(deleted), stamp: stamp)))
    }

    /// A stamp of the caller's console replica, later than `latest`: the hybrid logical clock's
    /// own rule, so an edit wins over every write the editor saw.
    private static func stamp(after latest: Timestamp?, by caller: Caller, now: UInt64) -> Timestamp {
        var clock = HybridLogicalClock(replica: replica(of: caller), wallClock: { now })
        if let latest { clock.witness(latest) }
        return clock.now()
    }

    /// The replica id a token's console edits are stamped with: its own, as a device's would be.
    static func replica(of caller: Caller) -> ReplicaID {
        let digits = caller.tokenID.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return ReplicaID(String(("console" + digits).prefix(32)))!
    }

    private static func changeID() -> String { "console-" + UUID().uuidString.lowercased() }

    /// A value as a person reads it: text as it is, a list joined by commas, anything else as JSON.
    static func display(_ value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        if let list = value.stringArrayValue { return list.joined(separator: ", ") }
        if value == .null { return "" }
        return (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? ""
    }

    /// A record's fields in reading order: the known ones, then the others by name.
    static func displayOrder(of record: TrackedRecord) -> [String] {
        let known = RecordSchema.knownFields(of: record.kind)
        return known.filter { record.fields[$0] != nil } + record.fields.keys.filter { !known.contains($0) }.sorted()
    }
}
