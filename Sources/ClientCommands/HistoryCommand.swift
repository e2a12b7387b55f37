import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven history ID`: who changed a record, when, and from what to what, as the server's log
/// holds it (editors and admins; needs the link).
struct HistoryCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "history",
            abstract: Words(
                "Show every change of a record on the server, newest first (editors and admins).",
                korean: "서버에 있는 한 기록의 모든 변경을 최근 것부터 보여 줍니다 (편집자와 관리자)."
            ).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: ArgumentHelp(.recordIDOnServerHelp)) var id: String
    @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

    func run() async throws {
        let history = try await Self.fetch(id, replica: replica)
        if json { return try printJSON(history) }
        for line in Self.lines(history) { print(line) }
    }

    /// The server's history of the record `id` names, for `history` and `review show`.
    static func fetch(_ id: String, replica: ReplicaOptions) async throws -> RecordHistory {
        let opened = try replica.open()
        // A prefix is resolved locally; a whole id may name a record this replica never held.
        let recordID = RecordID.isValid(id) ? id : try opened.record(id).id
        let settings = try opened.settings()
        let api = try settings.serverAPI()
        return try await api.history(of: recordID)
    }

    /// What `haven history` prints: Haven's words in the person's language, field names and values as they are.
    static func lines(_ history: RecordHistory) -> [String] {
        var lines = [
            Words(
                "history of \(history.kind) \(history.id), newest first:",
                korean: "\(history.kind) \(history.id)의 이력 (최근 것부터):")
        ]
        for entry in history.entries {
            let (when, seq) = (time(entry.receivedAt), entry.seq)
            lines.append(
                Words("\(when)  \(entry.author)  (change \(seq))", korean: "\(when)  \(entry.author)  (변경 \(seq))"))
            for field in entry.fields {
                if field.name == ReviewRule.commentField {
                    // A comment goes with a status move; the one it replaced belongs to an earlier move.
                    if field.new != .null {
                        let comment = show(field.new)
                        lines.append(Words("    review comment: \(comment)", korean: "    검토 의견: \(comment)"))
                    }
                    continue
                }
                let old = field.old.map(show) ?? Words("(removed by compaction)", korean: "(압축으로 지워짐)")
                let new = show(field.new)
                lines.append(
                    Words("    \(field.name): \(old.english) → \(new.english)", korean: "    \(field.name): \(old.korean) → \(new.korean)"))
            }
            if !entry.outdated.isEmpty {
                let fields = entry.outdated.joined(separator: ", ")
                lines.append(
                    Words(
                        "    no effect on \(fields): newer values were already there",
                        korean: "    효과 없음 (\(fields)): 이미 더 새 값이 있었습니다"))
            }
        }
        if let before = history.compactedBefore {
            let time = time(before)
            lines.append(
                Words(
                    "changes received before \(time) that later ones replaced were removed by compaction",
                    korean: "\(time) 전에 받은 변경 중 나중 변경으로 대체된 것은 압축으로 지워졌습니다"))
        }
        return lines.map(\.text)
    }

    /// A field without a value, as history and review show it.
    static let unset = Words("(unset)", korean: "(값 없음)")

    /// A value as history shows it: compact JSON, or ``unset`` for null.
    private static func show(_ value: JSONValue) -> Words {
        value == .null ? unset : Words(verbatim: ImportStep.shortJSON(value))
    }

    private static func time(_ milliseconds: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
