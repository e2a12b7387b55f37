import ArgumentParser
import Foundation
import HavenCore

/// `haven history ID`: who changed a record, when, and from what to what, as the server's log
/// holds it (editors and admins; needs the link).
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show every change of a record on the server, newest first (editors and admins).")

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The id, or its first characters when the record is in this replica.") var id: String
    @Flag(help: "Print JSON.") var json = false

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
        let api = ServerAPI(server: settings.server, token: settings.token, transport: try settings.transport())
        return try await api.history(of: recordID)
    }

    static func lines(_ history: RecordHistory) -> [String] {
        var lines = ["history of \(history.kind) \(history.id), newest first:"]
        for entry in history.entries {
            lines.append("\(time(entry.receivedAt))  \(entry.author)  (change \(entry.seq))")
            for field in entry.fields {
                if field.name == ReviewRule.commentField {
                    // A comment goes with a status move; the one it replaced belongs to an earlier move.
                    if field.new != .null { lines.append("    review comment: \(show(field.new))") }
                    continue
                }
                let old = field.old.map(show) ?? "(removed by compaction)"
                lines.append("    \(field.name): \(old) → \(show(field.new))")
            }
            if !entry.outdated.isEmpty {
                lines.append("    no effect on \(entry.outdated.joined(separator: ", ")): newer values were already there")
            }
        }
        if let before = history.compactedBefore {
            lines.append("changes received before \(time(before)) that later ones replaced were removed by compaction")
        }
        return lines
    }

    private static func show(_ value: JSONValue) -> String { value == .null ? "(unset)" : ImportStep.shortJSON(value) }

    private static func time(_ milliseconds: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
