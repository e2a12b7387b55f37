import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven review list|show|approve|decline`: review before publish, for editors and admins.
struct ReviewCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "review",
            abstract: Words(
                "Review records submitted for publishing (editors and admins).",
                korean: "게시하려고 올린 기록을 검토합니다 (편집자와 관리자)."
            ).text,
            discussion: Words(
                """
                A record is published when an editor or admin who did not make its latest content change \
                approves it (unless the server runs with --review single). Approve and decline are sent at once, \
                and the server's refusal is shown and undone here.
                """,
                korean: """
                기록은 그 마지막 내용 변경을 하지 않은 편집자나 관리자가 승인하면 게시됩니다 (서버가 \
                --review single로 실행 중이 아니라면). 승인과 반려는 바로 보내지고, 서버가 거부하면 그 사실을 \
                보여 주고 여기서도 되돌립니다.
                """
            ).text,
            subcommands: [List.self, Show.self, Approve.self, Decline.self])
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "List the records in review, as last synced.", korean: "검토 중인 기록을 마지막 동기화 기준으로 보여 줍니다."
                ).text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        func run() throws {
            let records = try replica.open().recordsInReview()
            if json { return try printJSON(records.map { RecordView($0) }) }
            let rows = records.map { record in
                [record.id, record.kind.rawValue, (record.values["title"] ?? record.values["name"])?.stringValue ?? ""]
                    + [record.values[ReviewRule.commentField]?.stringValue ?? ""]
            }
            let header = [
                Words(verbatim: "ID"), Words("KIND", korean: "종류"), Words("TITLE", korean: "제목"),
                Words("COMMENT", korean: "의견"),
            ]
            printTable(header: header.map(\.text), rows: rows)
        }
    }

    struct Show: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Show what a record in review changes in its published version, field by field (needs the link).",
                    korean: "검토 중인 기록이 게시된 버전에서 무엇을 바꾸는지 필드별로 보여 줍니다 (연결이 필요합니다)."
                ).text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDOnServerHelp)) var id: String
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        func run() async throws {
            let diff = ReviewDiff(try await HistoryCommand.fetch(id, replica: replica))
            if json { return try printJSON(diff) }
            for line in Self.lines(diff) { print(line) }
        }

        /// What `haven review show` prints: Haven's words in the person's language, field names and values as they are.
        static func lines(_ diff: ReviewDiff) -> [String] {
            let record = "\(diff.kind) \(diff.id)"
            var lines = [
                diff.publishedSeq.map { seq in
                    Words(
                        "\(record) against the version published by change \(seq):",
                        korean: "\(record): 변경 \(seq)에서 게시된 버전과 비교:")
                }
                    ?? Words(
                        "\(record) against nothing (never published):",
                        korean: "\(record): 비교할 게시 버전이 없습니다 (게시된 적 없음):")
            ]
            if diff.fields.isEmpty { lines.append(Words("    no field differs", korean: "    다른 필드가 없습니다")) }
            for field in diff.fields {
                let (published, now) = (show(field.published), show(field.now))
                lines.append(
                    Words(
                        "    \(field.name): \(published.english) → \(now.english)",
                        korean: "    \(field.name): \(published.korean) → \(now.korean)"))
            }
            if diff.compactedBefore != nil {
                let unset = HistoryCommand.unset
                lines.append(
                    Words(
                        "changes before compaction are gone: a field shown \(unset.english) may have had a value then",
                        korean: "압축 이전의 변경은 남아 있지 않습니다: \(unset.korean)으로 보이는 필드에도 그때는 값이 있었을 수 있습니다"))
            }
            return lines.map(\.text)
        }

        private static func show(_ value: JSONValue?) -> Words {
            value.map { Words(verbatim: ImportStep.shortJSON($0)) } ?? HistoryCommand.unset
        }
    }

    struct Approve: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Publish a record in review, and send that at once.", korean: "검토 중인 기록을 게시하고 바로 보냅니다."
                ).text)
        }
        @OptionGroup var move: ReviewMove

        func run() async throws {
            try await move.run(to: "published", done: Words("approved and published", korean: "승인하여 게시했습니다"))
        }
    }

    struct Decline: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Send a record in review back to draft, and send that at once.",
                    korean: "검토 중인 기록을 초안으로 되돌리고 바로 보냅니다."
                ).text)
        }
        @OptionGroup var move: ReviewMove

        func run() async throws {
            try await move.run(to: "draft", done: Words("declined: it is a draft again", korean: "반려했습니다: 다시 초안이 되었습니다"))
        }
    }
}

/// What approve and decline share: the record, the comment, and the push that follows at once.
struct ReviewMove: ParsableArguments {
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions
    @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String
    @Option(
        help: ArgumentHelp(
            Words(
                "Why; it travels with the record and stays in its history.",
                korean: "이유. 기록과 함께 보내지고 기록의 이력에 남습니다.")))
    var comment: String?

    /// Saves the move, pushes it, and undoes it here when the server refuses it.
    func run(to status: String, done: Words) async throws {
        let opened = try replica.open()
        // Rejected earlier, and kept: not this move's answer.
        let earlier = Set(try opened.rejectedChanges().map(\.changeID))
        let recordID = try opened.moveStatus(id, from: "review", to: status, comment: comment)
        var summary = SyncEngine.Summary()
        do {
            try await options.engine(for: opened).push(into: &summary)
        } catch {
            print(
                Words(
                    "saved; not sent yet (\(error)): 'haven sync' sends it",
                    korean: "저장했지만 아직 보내지 못했습니다 (\(error)): 'haven sync'가 보냅니다"))
            return
        }
        if let refused = try opened.rejectedChanges().last(where: {
            $0.recordID == recordID && !earlier.contains($0.changeID)
        }) {
            _ = try opened.discard(recordID)
            throw ClientError(
                Words(
                    "not \(status == "published" ? "approved" : "declined"): \(refused.reason); nothing was changed",
                    korean: "\(status == "published" ? "승인" : "반려")하지 못했습니다: "
                        + "\(refused.code.koreanRefusal(quoting: refused.reason)). 아무것도 바꾸지 않았습니다"))
        }
        if options.json { return try printJSON(["id": recordID, "status": status]) }
        print("\(done.text): \(recordID)")
    }
}
