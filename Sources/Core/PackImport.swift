import Foundation

/// What importing a pack does, record by record: one rule for `haven import` (into a replica)
/// and `haven-server import` (into the server's log), with or without `--dry-run` (DESIGN §6).
///
/// Rule 1. A record new here is added with the pack's non-null fields.
/// Rule 2. A record here gets only the fields whose value differs; a field the pack leaves out is
///   kept, `null` clears it. Nothing differing: unchanged.
/// Rule 3. A record deleted here stays deleted and untouched.
/// Rule 4. A record changed here after the pack was made (its latest stamp newer than the pack
///   record's `version`, or than the pack's `date`; any change at all when the pack says neither)
///   is skipped unless overwriting: an old pack never silently undoes a later fix or re-publishes
///   what was unpublished.
public enum ImportStep: Sendable, Hashable {
    case add([String: JSONValue])
    case update([FieldChange])
    case unchanged
    case keptDeleted
    case skipped(SkipReason, [FieldChange])
}

/// One field an import changes.
public struct FieldChange: Sendable, Hashable, Codable {
    public var field: String
    /// The value here before (`null` when unset).
    public var old: JSONValue
    public var new: JSONValue

    public init(field: String, old: JSONValue, new: JSONValue) {
        self.field = field
        self.old = old
        self.new = new
    }
}

/// Why a record was left as it is (rule 4).
public enum SkipReason: Sendable, Hashable, CustomStringConvertible {
    /// Changed here after the version the pack was exported at.
    case changedSinceExport(Timestamp)
    /// Changed here after the pack's date.
    case changedSinceDate(Timestamp)
    /// The pack says neither version nor date, so a change here may be newer.
    case packUndated

    public var description: String {
        switch self {
        case .changedSinceExport(let latest):
            "changed here after this pack was exported (last change \(Self.time(latest)))"
        case .changedSinceDate(let latest):
            "changed here after the pack's date (last change \(Self.time(latest)))"
        case .packUndated:
            "already here, and the pack has no version or date to tell which is newer"
        }
    }

    private static func time(_ stamp: Timestamp) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(stamp.physical) / 1000))
    }
}

extension ContentPack {
    /// What importing `record` does to `current`, the record as it is here (nil: not here).
    ///
    /// - Throws: ``ValidationError`` when the record is another kind here, or a changed field is
    ///   not valid.
    public func step(for record: Record, current: RecordState?, overwrite: Bool) throws(ValidationError) -> ImportStep {
        guard let current else {
            let values = record.fields.filter { $0.value != .null }
            try RecordSchema.validate(values, kind: record.kind)
            return .add(values)
        }
        guard current.kind == record.kind else {
            throw ValidationError(
                field: nil, code: .invalidRecord,
                words: Words(
                    "it is a \(current.kind) here, not a \(record.kind)",
                    korean: "여기서는 \(record.kind)가 아니라 \(current.kind)입니다"))
        }
        // A field that is not set reads as null, so clearing it changes nothing.
        let changes = record.fields.compactMap { field, value -> FieldChange? in
            let old = current.fields[field]?.value ?? .null
            return old == value ? nil : FieldChange(field: field, old: old, new: value)
        }.sorted { $0.field < $1.field }
        guard !changes.isEmpty else { return .unchanged }
        if current.isDeleted { return .keptDeleted }
        for change in changes { try RecordSchema.validate(field: change.field, value: change.new, kind: record.kind) }
        if !overwrite, let reason = skipReason(record, current) { return .skipped(reason, changes) }
        return .update(changes)
    }

    private func skipReason(_ record: Record, _ current: RecordState) -> SkipReason? {
        guard let latest = current.latestStamp else { return nil }
        if let version = record.version { return latest > version ? .changedSinceExport(latest) : nil }
        if let date, let made = Self.milliseconds(ofDate: date) { return latest.physical >= made ? .changedSinceDate(latest) : nil }
        return .packUndated
    }
}

/// What an import did, or would do with `--dry-run`; the same for `haven` and `haven-server`.
public struct ImportSummary: Sendable, Hashable, Codable {
    /// Records new here.
    public var added = 0
    /// Records here with at least one field changed.
    public var updated = 0
    /// Records here with the pack's values.
    public var unchanged = 0
    /// Records deleted here that the pack would change: left deleted and unchanged (rule 3).
    public var keptDeleted: [String] = []
    /// Records changed here after the pack was made, left as they are (rule 4).
    public var skipped: [Skipped] = []
    /// Records that had no id, by number in the pack (from 1), with the id they were given.
    public var generatedIDs: [GeneratedID] = []

    public struct Skipped: Sendable, Hashable, Codable {
        public var number: Int
        public var id: String
        public var reason: String
        public var fields: [String]
    }

    public struct GeneratedID: Sendable, Hashable, Codable {
        public var number: Int
        public var id: String
        public init(number: Int, id: String) {
            self.number = number
            self.id = id
        }
    }

    public init() {}

    /// Counts one record's step.
    public mutating func count(_ step: ImportStep, number: Int, id: String) {
        switch step {
        case .add: added += 1
        case .update: updated += 1
        case .unchanged: unchanged += 1
        case .keptDeleted: keptDeleted.append(id)
        case .skipped(let reason, let changes):
            skipped.append(Skipped(number: number, id: id, reason: reason.description, fields: changes.map(\.field)))
        }
    }

    /// What a person reads after an import: counts, then what was left alone and why.
    public func report(file: String, dryRun: Bool) -> [String] {
        var lines = [
            "\(dryRun ? "would import" : "imported") \(file): \(added) added, \(updated) updated, \(unchanged) unchanged"
                + (skipped.isEmpty ? "" : ", \(skipped.count) skipped")
        ]
        if !skipped.isEmpty {
            lines.append("\(skipped.count) record(s) changed after this pack was made were left as they are (--overwrite replaces them):")
            lines += skipped.map { "  record \($0.number) (\($0.id)): \($0.reason); would change \($0.fields.joined(separator: ", "))" }
        }
        if !keptDeleted.isEmpty {
            lines.append("\(keptDeleted.count) record(s) are deleted here and were left deleted (restore them, then import again):")
            lines += keptDeleted.map { "  \($0)" }
        }
        return lines
    }
}

extension ImportStep {
    /// The step as `--dry-run` prints it: one line for the record, one per changed field.
    public func preview(number: Int, id: String, kind: RecordKind) -> [String] {
        func show(_ value: JSONValue) -> String { Self.shortJSON(value) }
        switch self {
        case .add(let values):
            return ["record \(number) (\(id)): add \(kind)"] + values.keys.sorted().map { "    \($0): \(show(values[$0]!))" }
        case .update(let changes):
            return ["record \(number) (\(id)): update"] + changes.map { "    \($0.field): \(show($0.old)) → \(show($0.new))" }
        case .unchanged:
            return []
        case .keptDeleted:
            return ["record \(number) (\(id)): deleted here, left deleted"]
        case .skipped(let reason, let changes):
            return ["record \(number) (\(id)): skip: \(reason)"]
                + changes.map { "    \($0.field): \(show($0.old)) → \(show($0.new)) (not applied)" }
        }
    }

    /// A value as compact JSON, cut to a line's worth.
    public static func shortJSON(_ value: JSONValue) -> String {
        let text: String
        if case .string(let string) = value {
            text = "\"" + string.replacingOccurrences(of: "\n", with: "\\n") + "\""
        } else {
            text = (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "?"
        }
        return text.count > 72 ? String(text.prefix(71)) + "…" : text
    }
}
