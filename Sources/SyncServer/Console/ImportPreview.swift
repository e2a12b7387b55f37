import Crypto
import Foundation
import HavenCore

/// What importing a pack would do, as the console shows it before anything is written: each
/// record the import adds, changes or leaves alone with a reason (``ImportStep``), and a
/// fingerprint of it all, so that the import the editor confirms is the one they read.
struct ImportPreview: Sendable {
    /// One record the import would touch or leave with a reason; unchanged records are counted only.
    struct Row: Sendable, Codable, Hashable {
        var number: Int
        var id: String
        var kind: RecordKind
        var title: String
        var action: Action
        /// Why a skipped record is left as it is.
        var reason: String?
        var changes: [FieldChange]
    }

    enum Action: String, Sendable, Codable, Hashable {
        case add, update, keptDeleted, skip

        var words: Words {
            switch self {
            case .add: Words("add", korean: "추가")
            case .update: Words("update", korean: "갱신")
            case .keptDeleted: Words("deleted here: left deleted", korean: "여기서 삭제됨: 삭제된 채로 둠")
            case .skip: Words("skip (changed here since the pack was made)", korean: "건너뜀 (팩을 만든 뒤 여기서 바뀜)")
            }
        }
    }

    var rows: [Row] = []
    var summary = ImportSummary()

    init(_ outcomes: [ImportOutcome]) {
        for outcome in outcomes {
            let record = outcome.record
            summary.count(outcome.step, number: outcome.number, id: record.id)
            let title = record.fields[SearchTerms.fields(of: record.kind)[0]]?.stringValue ?? record.id
            func row(_ action: Action, _ changes: [FieldChange], reason: String? = nil) -> Row {
                Row(
                    number: outcome.number, id: record.id, kind: record.kind, title: title, action: action,
                    reason: reason, changes: changes)
            }
            switch outcome.step {
            case .add(let values):
                rows.append(row(.add, values.keys.sorted().map { FieldChange(field: $0, old: .null, new: values[$0]!) }))
            case .update(let changes): rows.append(row(.update, changes))
            case .keptDeleted: rows.append(row(.keptDeleted, []))
            case .skipped(let reason, let changes): rows.append(row(.skip, changes, reason: reason.words.english))
            case .unchanged: break
            }
        }
    }

    /// How many records the import writes.
    var writes: Int { summary.added + summary.updated }

    /// The SHA-256 of the rows in canonical JSON: equal for two previews exactly when they show
    /// the same import.
    var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(rows)) ?? Data()
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

/// The records changed since the preview the editor confirmed: the import is not written.
struct ImportPreviewOutdated: Error {
    let preview: ImportPreview
}
