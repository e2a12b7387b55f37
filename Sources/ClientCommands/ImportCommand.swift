import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven import FILE`: a content pack's records as local edits, to send with `haven push`.
struct ImportCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "import",
            abstract: Words(
                "Add and update records from a content pack (haven-pack/1), as unsent changes.",
                korean: "콘텐츠 팩(haven-pack/1)의 기록을 추가하고 갱신합니다. 보내지 않은 변경으로 저장됩니다.").text,
            discussion: Words(
                """
                Records already in the replica get only the fields that differ. A record changed here \
                after the pack was made (after the version an exported pack records, or after the \
                pack's "date") is left as it is and listed, unless --overwrite. Records without an id \
                are given one, written back into the file. The whole pack is saved in one step: a pack \
                with a bad record is refused, every bad record listed, and nothing is saved.
                """,
                korean: """
                복제본에 이미 있는 기록은 다른 필드만 바뀝니다. 팩이 만들어진 뒤(내보낸 팩이 적어 둔 version 뒤, \
                또는 팩의 "date" 뒤) 여기서 바뀐 기록은 --overwrite를 주지 않으면 그대로 두고 목록으로 알려 줍니다. \
                id가 없는 기록에는 id를 주고 파일에 다시 씁니다. 팩 전체를 한 번에 저장합니다: 잘못된 기록이 있는 \
                팩은 거부하고, 잘못된 기록을 모두 알려 주며, 아무것도 저장하지 않습니다.
                """).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument(
        help: ArgumentHelp(
            Words(
                "The pack's JSON file, or - for standard input.",
                korean: "팩의 JSON 파일. -이면 표준 입력.")))
    var file: String
    @Flag(
        help: ArgumentHelp(
            Words(
                "Print what would change, field by field, and save nothing.",
                korean: "무엇이 바뀔지 필드별로 출력하고, 아무것도 저장하지 않습니다.")))
    var dryRun = false
    @Flag(
        help: ArgumentHelp(
            Words(
                "Replace records changed here after the pack was made.",
                korean: "팩이 만들어진 뒤 여기서 바뀐 기록도 덮어씁니다.")))
    var overwrite = false
    @Flag(help: ArgumentHelp(.printJSONSummaryHelp)) var json = false

    func run() throws {
        let data: Data
        do {
            data = try ContentPackFile.read(file)
        } catch {
            throw ClientError(
                Words("\(error.message)\nnothing was imported", korean: "\(error.message)\n아무것도 가져오지 않았습니다"))
        }
        let reading: PackReading
        do {
            reading = try ContentPack.read(data)
        } catch {
            throw ClientError(
                Words(
                    "\(file): \(error.message)\nnothing was imported",
                    korean: "\(file): \(error.message)\n아무것도 가져오지 않았습니다"))
        }
        for warning in reading.warnings {
            FileHandle.standardError.write(Data(TerminalText.escaped(Words.warning.text + warning + "\n").utf8))
        }
        let pack = reading.pack
        let replica = try replica.open()
        // Progress only for a person watching, and only when there is enough to wait for.
        let showsProgress = !json && !dryRun && isatty(STDERR_FILENO) == 1 && pack.records.count > Replica.importProgressInterval
        var summary = try replica.importPack(
            pack, overwrite: overwrite, dryRun: dryRun,
            preview: dryRun && !json ? { number, record, step in
                for line in step.preview(number: number, id: record.id, kind: record.kind) { print(line) }
            } : nil
        ) { done in
            if showsProgress {
                let total = pack.records.count
                let line = Words("importing: \(done)/\(total) records", korean: "가져오는 중: 기록 \(total)개 중 \(done)개")
                FileHandle.standardError.write(Data("\r\(line)".utf8))
            }
        }
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        summary.generatedIDs = reading.generatedIDs.map { .init(number: $0, id: pack.records[$0 - 1].id) }
        let written = try dryRun ? false : ContentPackFile.writeGeneratedIDs(reading, original: data, to: file)
        if json { return try printJSON(summary) }
        for line in summary.report(file: file, dryRun: dryRun) { print(line) }
        if !dryRun { for line in ContentPackFile.generatedIDsReport(reading, path: file, written: written) { print(line) } }
        if !dryRun && summary.added + summary.updated > 0 {
            print(Words("run 'haven push' to send them", korean: "'haven push'로 보내세요"))
        }
    }
}
