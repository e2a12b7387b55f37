import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven wipe --yes`: destroys the replica at once, for a device in danger.
///
/// It never asks a question: a person in danger has no time for one, and scripts must know
/// what happens. Without `--yes` it only says what it would destroy.
struct WipeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "wipe",
            abstract: Words(
                "Destroy the replica and its files at once (needs --yes).",
                korean: "복제본과 그 파일들을 바로 파기합니다 (--yes가 필요합니다).").text,
            discussion: Words(
                """
                Overwrites the replica file and the files beside it with zeros, removes them, and \
                removes the directory 'haven init' made for them if nothing else is in it. Unsent \
                changes are lost. An encrypted replica's key file goes first: without it nothing \
                can be read back, even on flash storage. For a plaintext replica on flash storage the \
                overwrite is not a guarantee that the old data cannot be recovered.
                """,
                korean: """
                복제본 파일과 그 옆의 파일들을 0으로 덮어쓴 뒤 지우고, 'haven init'이 만든 디렉터리도 \
                그 안에 다른 것이 없으면 지웁니다. 보내지 않은 변경은 사라집니다. 암호화된 복제본은 키 파일을 \
                먼저 지웁니다: 키 파일이 없으면 플래시 저장 장치에서도 아무것도 다시 읽을 수 없습니다. 플래시 \
                저장 장치에 있는 평문 복제본은 덮어써도 옛 데이터를 되살릴 수 없다고 보장할 수 없습니다.
                """).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Flag(
        help: ArgumentHelp(
            Words(
                "Really destroy the replica, with its unsent changes.",
                korean: "보내지 않은 변경까지 포함해 복제본을 정말로 파기합니다.")))
    var yes = false
    @Flag(help: ArgumentHelp(.printJSONSummaryHelp)) var json = false

    func run() throws {
        let path = replica.path
        let nothing = Words("no replica at \(path): nothing to wipe", korean: "\(path)에 복제본이 없습니다: 지울 것이 없습니다")
        guard yes else {
            let inventory = try Replica.wipeInventory(at: path)
            if inventory.files.isEmpty {
                printError(nothing)
            } else {
                let what = describe(inventory.encrypted, records: inventory.records, unsent: inventory.unsentChanges)
                printError(Words("this would destroy \(path): \(what.english)", korean: "이대로 하면 복제본(\(path))을 파기합니다: \(what.korean)"))
                printError(
                    Words(
                        "nothing was deleted: run 'haven wipe --yes' to do it",
                        korean: "아무것도 지우지 않았습니다: 정말 지우려면 'haven wipe --yes'를 실행하세요"))
            }
            throw ExitCode.failure
        }
        let report = try Replica.wipe(at: path)
        if json { return try printJSON(report) }
        if report.removedFiles.isEmpty { return print(nothing) }
        let what = describe(report.encrypted, records: report.records, unsent: report.unsentChanges)
        print(Words("wiped \(path): destroyed \(what.english)", korean: "복제본(\(path))을 지웠습니다. 파기한 것: \(what.korean)"))
        if !report.overwritten {
            print(
                Words(
                    "the files were removed without being fully overwritten first",
                    korean: "파일을 끝까지 덮어쓰지 못한 채 지웠습니다"))
        }
    }

    private func describe(_ encrypted: Bool, records: Int?, unsent: Int?) -> Words {
        if encrypted {
            return Words(
                "an encrypted replica, its key first: nothing in it can be read back",
                korean: "암호화된 복제본입니다 (키를 먼저 파기): 그 안의 어떤 것도 다시 읽을 수 없습니다")
        }
        guard let records, let unsent else {
            return Words(
                "a replica that could not be read (how many unsent changes it held is unknown)",
                korean: "읽을 수 없는 복제본입니다 (보내지 않은 변경이 몇 개였는지 알 수 없습니다)")
        }
        let recordText = "\(records) record\(records == 1 ? "" : "s")"
        return unsent == 0
            ? Words("\(recordText) and no unsent changes", korean: "기록 \(records)개, 보내지 않은 변경은 없습니다")
            : Words(
                "\(recordText) and \(unsent) unsent change\(unsent == 1 ? "" : "s") (never sent to the server)",
                korean: "기록 \(records)개와 보내지 않은 변경 \(unsent)개입니다 (서버에 보낸 적이 없습니다)")
    }

    private func printError(_ line: Words) {
        FileHandle.standardError.write(Data((line.text + "\n").utf8))
    }
}
