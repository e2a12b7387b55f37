import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven stories …` and `haven resources …`: the same verbs for both kinds.
struct RecordsCommand<Fields: RecordFields>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Fields.kind.commandName,
            abstract: Words(
                "Add, list, show, edit, delete and restore \(Fields.kind.commandName).",
                korean: "\(noun)를 추가하고, 나열하고, 보여 주고, 고치고, 삭제하고, 되살립니다."
            ).text,
            subcommands: [Add.self, List.self, Show.self, Edit.self, Submit.self, Delete.self, Restore.self])
    }

    /// The kind in Korean: 이야기 or 지원 정보.
    private static var noun: String { Fields.kind.noun.korean }

    /// The limits an edit is checked against before it is saved, from Core's one table.
    static var limits: String {
        let fields = RecordSchema.knownFields(of: Fields.kind).compactMap { name in
            RecordSchema.fieldLimit(name, kind: Fields.kind).map { limit in
                limit.characters.map { Words("\(name) \($0) characters", korean: "\(name) \($0)글자") }
                    ?? Words("\(name) \(limit.entries ?? 0) entries", korean: "\(name) 항목 \(limit.entries ?? 0)개")
            }
        }.joined(separator: Words(", ", korean: ", "))
        let bytes = ProtocolLimits.recordBytes
        return Words(
            """
            Limits, checked before saving as the server checks them: \(fields.english); and the \
            whole change at most \(bytes) bytes of JSON (256 KiB, or what the server said \
            at init, login or sync), where Korean and Chinese text takes 3 bytes a character. An edit this \
            replica's token may not make (its role, as the server said) is refused before saving, too.
            """,
            korean: """
            저장하기 전에 서버와 똑같이 확인하는 한도: \(fields.korean). 그리고 변경 전체는 JSON으로 최대 \
            \(bytes)바이트입니다 (256 KiB, 또는 init, login, sync 때 서버가 알려 준 값). 한국어와 중국어는 \
            한 글자에 3바이트입니다. 이 복제본의 토큰으로 할 수 없는 편집(서버가 알려 준 역할에 따라)도 \
            저장하기 전에 거부합니다.
            """
        ).text
    }

    struct Add: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words("Add a \(Fields.kind) and print its id.", korean: "\(noun)를 추가하고 그 id를 출력합니다.").text,
                discussion: limits)
        }
        @OptionGroup var replica: ReplicaOptions
        @OptionGroup var fields: Fields

        func run() throws {
            var values = try fields.values()
            warnAboutUnknownFields(values, kind: Fields.kind)
            // Nothing is published by omission: a new record is a draft unless told otherwise.
            if values["status"] == nil { values["status"] = "draft" }
            print(try replica.open().add(Fields.kind, values: values))
        }
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words("List \(Fields.kind.commandName).", korean: "\(noun) 목록을 보여 줍니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @OptionGroup var filter: ListFilterOptions
        @Flag(help: ArgumentHelp(Words("Include deleted records.", korean: "삭제된 기록도 넣습니다."))) var deleted = false
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        func validate() throws { try filter.check(for: Fields.kind) }

        func run() throws {
            let opened = try replica.open()
            let all = try opened.records(Fields.kind, includeDeleted: deleted)
            let records = filter.recordFilter.apply(all)
            let unverified = try opened.unverifiedIDs()
            if json { return try printJSON(records.map { RecordView($0, unverified: unverified) }) }
            let deleted = Words("(deleted)", korean: "(삭제됨)").text
            let rows = records.map {
                [$0.id] + Fields.listColumns($0) + ($0.isDeleted ? [deleted] : [])
                    + (unverified.contains($0.id) ? [UnverifiedNote.mark.text] : [])
            }
            printTable(header: ["ID"] + Fields.listHeader.map(\.text), rows: rows)
            if let note = UnverifiedNote.sentence(count: records.filter { unverified.contains($0.id) }.count) { print(note) }
            if let limit = filter.limit, records.count == limit, limit < filter.matching(all) {
                let matching = filter.matching(all)
                let note = Words(
                    "showing \(limit) of \(matching); a larger --limit shows more",
                    korean: "\(matching)개 중 \(limit)개를 보였습니다. --limit을 더 크게 주면 더 보입니다")
                FileHandle.standardError.write(Data("\(note)\n".utf8))
            }
        }
    }

    struct Show: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: Words("Show one \(Fields.kind).", korean: "\(noun) 하나를 보여 줍니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        func run() throws {
            let opened = try replica.open()
            let record = try opened.record(id, kind: Fields.kind)
            let unverified = try opened.unverifiedIDs()
            if json { return try printJSON(RecordView(record, unverified: unverified)) }
            if let note = UnverifiedNote.sentence(count: unverified.contains(record.id) ? 1 : 0) { print(note) }
            print("id: \(record.id)")
            if record.isDeleted { print(Words("deleted: yes", korean: "삭제됨: 예")) }
            let known = RecordSchema.knownFields(of: record.kind)
            let names = known.filter { record.fields[$0] != nil } + record.fields.keys.filter { !known.contains($0) }.sorted()
            for name in names {
                let value = record.fields[name]!.value
                if case .string(let text) = value, text.contains("\n") {
                    print("\(name):\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
                } else if case .string(let text) = value {
                    print("\(name): \(text)")
                } else {
                    print("\(name): \(display(value))")
                }
            }
        }
    }

    struct Edit: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words("Change fields of a \(Fields.kind).", korean: "\(noun)의 필드를 고칩니다.").text,
                discussion: limits)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String
        @OptionGroup var fields: Fields

        func run() throws {
            let values = try fields.values()
            guard !values.isEmpty else {
                throw ValidationError(
                    Words(
                        "nothing to change: give at least one field option",
                        korean: "바꿀 것이 없습니다: 필드 옵션을 하나 이상 주세요").text)
            }
            warnAboutUnknownFields(values, kind: Fields.kind)
            let changed = try replica.open().edit(id, kind: Fields.kind, values: values)
            let fields = changed.joined(separator: ", ")
            print(
                changed.isEmpty
                    ? Words("no change", korean: "바뀐 것이 없습니다") : Words("saved: \(fields)", korean: "저장했습니다: \(fields)"))
            if values["status"] == nil, changed.contains("status") {
                print(
                    Words(
                        "it is a draft again, so that nothing unreviewed is published: 'haven \(Fields.kind.commandName) submit \(id)' sends it for review",
                        korean: "검토되지 않은 내용이 게시되지 않도록 다시 초안이 되었습니다. 'haven \(Fields.kind.commandName) submit \(id)' 명령으로 검토를 요청하세요"))
            }
        }
    }

    struct Submit: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Submit a \(Fields.kind) draft for review (status review); another editor or admin approves it.",
                    korean: "\(noun) 초안을 검토에 올립니다 (status review). 다른 편집자나 관리자가 승인합니다."
                ).text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String
        @Option(
            help: ArgumentHelp(
                Words(
                    "A comment for the reviewer; it stays in the record's history.",
                    korean: "검토자에게 남기는 의견. 기록의 이력에 남습니다.")))
        var comment: String?

        func run() throws {
            let id = try replica.open().moveStatus(id, kind: Fields.kind, to: "review", comment: comment)
            print(
                Words(
                    "submitted for review: \(id) (sent with the next sync)",
                    korean: "검토에 올렸습니다: \(id) (다음 동기화 때 보냅니다)"))
        }
    }

    struct Delete: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Delete a \(Fields.kind) (restore brings it back).", korean: "\(noun)를 삭제합니다 (restore로 되살립니다)."
                ).text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String

        func run() throws {
            let id = try replica.open().delete(id, kind: Fields.kind)
            print(Words("deleted \(id)", korean: "삭제했습니다: \(id)"))
        }
    }

    struct Restore: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: Words("Bring a deleted \(Fields.kind) back.", korean: "삭제된 \(noun)를 되살립니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var id: String

        func run() throws {
            let id = try replica.open().restore(id, kind: Fields.kind)
            print(Words("restored \(id)", korean: "되살렸습니다: \(id)"))
        }
    }
}

/// Unknown fields are kept, but `--set phnoe=…` is most likely a typo: say which field was meant.
private func warnAboutUnknownFields(_ values: [String: JSONValue], kind: RecordKind) {
    for name in values.keys.sorted() {
        guard let note = RecordSchema.unknownFieldNote(name, kind: kind) else { continue }
        FileHandle.standardError.write(Data(TerminalText.escaped(Words.warning.text + note + "\n").utf8))
    }
}

/// A record as `--json` prints it: values without stamps.
struct RecordView: Encodable {
    var id: String
    var kind: RecordKind
    var deleted: Bool
    var fields: [String: JSONValue]
    /// True when no verified signature covers the record (left out otherwise).
    var unverified: Bool?

    init(_ record: RecordState, unverified: Set<String> = []) {
        id = record.id
        kind = record.kind
        deleted = record.isDeleted
        fields = record.values
        self.unverified = unverified.contains(record.id) ? true : nil
    }
}

/// Left-aligned columns, the last one unpadded; Korean takes two columns a character, as a
/// terminal shows it.
func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in
        all.map { $0.indices.contains(column) ? TerminalText.columns($0[column]) : 0 }.max() ?? 0
    }
    for row in all {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1
                ? cell
                : cell + String(repeating: " ", count: max(0, widths[min(index, widths.count - 1)] - TerminalText.columns(cell)))
        }
        print(cells.joined(separator: "  "))
    }
}
