import ArgumentParser
import Foundation
import HavenCore

/// `haven review list|show|approve|decline`: review before publish, for editors and admins.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Review records submitted for publishing (editors and admins).",
        discussion: """
            A record is published when an editor or admin who did not make its latest content change \
            approves it (unless the server runs with --review single). Approve and decline are sent at once, \
            and the server's refusal is shown and undone here.
            """,
        subcommands: [List.self, Show.self, Approve.self, Decline.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the records in review, as last synced.")
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let records = try replica.open().recordsInReview()
            if json { return try printJSON(records.map { RecordView($0) }) }
            let rows = records.map { record in
                [record.id, record.kind.rawValue, (record.values["title"] ?? record.values["name"])?.stringValue ?? ""]
                    + [record.values[ReviewRule.commentField]?.stringValue ?? ""]
            }
            printTable(header: ["ID", "KIND", "TITLE", "COMMENT"], rows: rows)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a record in review changes in its published version, field by field (needs the link).")
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: "The id, or its first characters when the record is in this replica.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let diff = ReviewDiff(try await HistoryCommand.fetch(id, replica: replica))
            if json { return try printJSON(diff) }
            for line in Self.lines(diff) { print(line) }
        }

        static func lines(_ diff: ReviewDiff) -> [String] {
            let against = diff.publishedSeq.map { "the version published by change \($0)" } ?? "nothing (never published)"
            var lines = ["\(diff.kind) \(diff.id) against \(against):"]
            if diff.fields.isEmpty { lines.append("    no field differs") }
            for field in diff.fields {
                lines.append("    \(field.name): \(show(field.published)) → \(show(field.now))")
            }
            if diff.compactedBefore != nil {
                lines.append("changes before compaction are gone: a field shown (unset) may have had a value then")
            }
            return lines
        }

        private static func show(_ value: JSONValue?) -> String { value.map(ImportStep.shortJSON) ?? "(unset)" }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish a record in review, and send that at once.")
        @OptionGroup var move: ReviewMove

        func run() async throws { try await move.run(to: "published", done: "approved and published") }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a record in review back to draft, and send that at once.")
        @OptionGroup var move: ReviewMove

        func run() async throws { try await move.run(to: "draft", done: "declined: it is a draft again") }
    }
}

/// What approve and decline share: the record, the comment, and the push that follows at once.
struct ReviewMove: ParsableArguments {
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions
    @Argument(help: "The id, or its first characters.") var id: String
    @Option(help: "Why; it travels with the record and stays in its history.") var comment: String?

    /// Saves the move, pushes it, and undoes it here when the server refuses it.
    func run(to status: String, done: String) async throws {
        let opened = try replica.open()
        // Rejected earlier, and kept: not this move's answer.
        let earlier = Set(try opened.rejectedChanges().map(\.changeID))
        let recordID = try opened.moveStatus(id, from: "review", to: status, comment: comment)
        var summary = SyncEngine.Summary()
        do {
            try await options.engine(for: opened).push(into: &summary)
        } catch {
            print("saved; not sent yet (\(error)): 'haven sync' sends it")
            return
        }
        if let refused = try opened.rejectedChanges().last(where: {
            $0.recordID == recordID && !earlier.contains($0.changeID)
        }) {
            _ = try opened.discard(recordID)
            throw ClientError(
                Words(
                    "not \(status == "published" ? "approved" : "declined"): \(refused.reason); nothing was changed",
                    korean: "\(status == "published" ? "승인" : "반려")하지 못했습니다: \(refused.reason). 아무것도 바꾸지 않았습니다"))
        }
        if options.json { return try printJSON(["id": recordID, "status": status]) }
        print("\(done): \(recordID)")
    }
}
