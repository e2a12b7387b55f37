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
    /// A record new here, added with these fields.
    case add([String: JSONValue])
    /// A record here whose fields the pack changes.
    case update([FieldChange])
    /// A record the pack would not change.
    case unchanged
    /// A record deleted here, left deleted and untouched.
    case keptDeleted
    /// A record changed here after the pack was made, left as it is, with the fields the pack would have changed.
    case skipped(SkipReason, [FieldChange])
}

/// One field an import changes.
public struct FieldChange: Sendable, Hashable, Codable {
    /// The field's name.
    public var field: String
    /// The value here before (`null` when unset).
    public var old: JSONValue
    /// The value the import writes.
    public var new: JSONValue

    /// The field `field`, from `old` to `new`.
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

    /// ``words`` in the person's language.
    public var description: String { words.text }

    /// Why, in every language.
    public var words: Words {
        switch self {
        case .changedSinceExport(let latest):
            Words(
                "changed here after this pack was exported (last change \(Self.time(latest)))",
                korean: "이 팩을 내보낸 뒤 여기서 바뀌었습니다 (마지막 변경 \(Self.time(latest)))")
        case .changedSinceDate(let latest):
            Words(
                "changed here after the pack's date (last change \(Self.time(latest)))",
                korean: "팩의 날짜(date) 뒤에 여기서 바뀌었습니다 (마지막 변경 \(Self.time(latest)))")
        case .packUndated:
            Words(
                "already here, and the pack has no version or date to tell which is newer",
                korean: "이미 여기 있고, 팩에는 어느 쪽이 새로운지 알려 줄 version도 date도 없습니다")
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

    /// A record left as it is; `--json` gives its reason in English, the words a machine keeps.
    public struct Skipped: Sendable, Hashable, Codable {
        /// The record's number in the pack, from 1.
        public var number: Int
        /// The record's id.
        public var id: String
        /// Why, in every language (``SkipReason/words``).
        public var reason: Words
        /// The fields the pack would have changed.
        public var fields: [String]

        private enum CodingKeys: String, CodingKey { case number, id, reason, fields }

        /// The record `number` with `id`, left as it is for `reason`.
        public init(number: Int, id: String, reason: Words, fields: [String]) {
            self.number = number
            self.id = id
            self.reason = reason
            self.fields = fields
        }

        /// Reads a skipped record, its reason in English as `--json` writes it.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let reason = try container.decode(String.self, forKey: .reason)
            self.init(
                number: try container.decode(Int.self, forKey: .number), id: try container.decode(String.self, forKey: .id),
                reason: Words(verbatim: reason), fields: try container.decode([String].self, forKey: .fields))
        }

        /// Writes the skipped record, its reason in English.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(id, forKey: .id)
            try container.encode(reason.english, forKey: .reason)
            try container.encode(fields, forKey: .fields)
        }
    }

    /// A record that had no id, and the id it was given.
    public struct GeneratedID: Sendable, Hashable, Codable {
        /// The record's number in the pack, from 1.
        public var number: Int
        /// The id it was given.
        public var id: String
        /// The record `number`, given `id`.
        public init(number: Int, id: String) {
            self.number = number
            self.id = id
        }
    }

    /// An empty summary, before any record is counted.
    public init() {}

    /// Counts one record's step.
    public mutating func count(_ step: ImportStep, number: Int, id: String) {
        switch step {
        case .add: added += 1
        case .update: updated += 1
        case .unchanged: unchanged += 1
        case .keptDeleted: keptDeleted.append(id)
        case .skipped(let reason, let changes):
            skipped.append(Skipped(number: number, id: id, reason: reason.words, fields: changes.map(\.field)))
        }
    }

    /// What a person reads after an import: counts, then what was left alone and why.
    public func report(file: String, dryRun: Bool) -> [String] {
        var counts = Words(
            "\(added) added, \(updated) updated, \(unchanged) unchanged",
            korean: "추가 \(added)개, 갱신 \(updated)개, 그대로 \(unchanged)개")
        if !skipped.isEmpty { counts = counts + Words(", \(skipped.count) skipped", korean: ", 건너뜀 \(skipped.count)개") }
        var lines = [
            dryRun
                ? Words("would import \(file): \(counts.english)", korean: "미리 보기(아무것도 저장하지 않음): \(file). \(counts.korean)")
                : Words("imported \(file): \(counts.english)", korean: "가져왔습니다: \(file). \(counts.korean)")
        ]
        if !skipped.isEmpty {
            lines.append(
                Words(
                    "\(skipped.count) record(s) changed after this pack was made were left as they are (--overwrite replaces them):",
                    korean: "이 팩이 만들어진 뒤 여기서 바뀐 기록 \(skipped.count)개는 그대로 두었습니다 (--overwrite를 주면 덮어씁니다):"))
            lines += skipped.map { skipped in
                let fields = skipped.fields.joined(separator: ", ")
                return Words(
                    "  record \(skipped.number) (\(skipped.id)): \(skipped.reason.english); would change \(fields)",
                    korean: "  \(skipped.number)번째 기록 (\(skipped.id)): \(skipped.reason.korean). 바꾸려던 필드: \(fields)")
            }
        }
        if !keptDeleted.isEmpty {
            lines.append(
                Words(
                    "\(keptDeleted.count) record(s) are deleted here and were left deleted (restore them, then import again):",
                    korean: "기록 \(keptDeleted.count)개는 여기서 삭제되어 있어 삭제된 채로 두었습니다 (되살린 뒤 다시 가져오세요):"))
            lines += keptDeleted.map { Words(verbatim: "  \($0)") }
        }
        return lines.map(\.text)
    }
}

extension ImportStep {
    /// The field values the step writes (`null` clears a field); nil when it writes nothing.
    public var writtenValues: [String: JSONValue]? {
        switch self {
        case .add(let values): values
        case .update(let changes): Dictionary(uniqueKeysWithValues: changes.map { ($0.field, $0.new) })
        case .unchanged, .keptDeleted, .skipped: nil
        }
    }

    /// The step as `--dry-run` prints it: one line for the record, one per changed field.
    public func preview(number: Int, id: String, kind: RecordKind) -> [String] {
        func show(_ value: JSONValue) -> String { Self.shortJSON(value) }
        let record = Words("record \(number) (\(id)): ", korean: "\(number)번째 기록 (\(id)): ")
        switch self {
        case .add(let values):
            return [(record + Words("add \(kind)", korean: "추가 (\(kind))")).text]
                + values.keys.sorted().map { "    \($0): \(show(values[$0]!))" }
        case .update(let changes):
            return [(record + Words("update", korean: "갱신")).text]
                + changes.map { "    \($0.field): \(show($0.old)) → \(show($0.new))" }
        case .unchanged:
            return []
        case .keptDeleted:
            return [(record + Words("deleted here, left deleted", korean: "여기서 삭제되어 있어 삭제된 채로 둡니다")).text]
        case .skipped(let reason, let changes):
            let notApplied = Words(" (not applied)", korean: " (반영하지 않음)").text
            return [(record + Words("skip: ", korean: "건너뜀: ") + reason.words).text]
                + changes.map { "    \($0.field): \(show($0.old)) → \(show($0.new))\(notApplied)" }
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
