import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven discard ID`: drops a record's unsent and rejected changes and puts it back as the
/// server has it, after a confirmation (or `--yes`).
struct DiscardCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "discard",
            abstract: Words(
                "Drop a record's unsent or rejected changes and restore the server's version.",
                korean: "기록의 보내지 않았거나 거부된 변경을 버리고 서버의 것으로 되돌립니다.").text,
            discussion: Words(
                """
                For an edit the server refused (see 'haven status') or one you no longer want to send. The \
                record is put back as this replica last pulled it from the server; a record created here and \
                never accepted by the server is removed. What is dropped cannot be brought back.
                """,
                korean: """
                서버가 거부한 편집('haven status'로 봅니다)이나 더는 보내고 싶지 않은 편집에 씁니다. 기록은 이 \
                복제본이 서버에서 마지막으로 받아 온 상태로 돌아가고, 여기서 만들어 서버가 받아들인 적 없는 기록은 \
                지워집니다. 버린 것은 되살릴 수 없습니다.
                """).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: ArgumentHelp(Words("The record's id, or its first characters.", korean: "기록의 id, 또는 id의 앞부분.")))
    var id: String
    @Flag(help: ArgumentHelp(Words("Drop without asking (for scripts).", korean: "묻지 않고 버립니다 (스크립트용).")))
    var yes = false

    func run() throws {
        let replica = try replica.open()
        let (record, changes) = try replica.pendingChanges(of: id)
        if changes > 0, !yes {
            // The answer is "yes" in every language: a script or a person reading either text types the same.
            print(
                Words(
                    "Drop \(changes) unsent or rejected change\(changes == 1 ? "" : "s") to \(record.kind) \(record.id) and "
                        + "restore the server's version? This cannot be undone. Type yes: ",
                    korean: "\(record.kind) \(record.id)의 보내지 않았거나 거부된 변경 \(changes)개를 버리고 서버의 것으로 "
                        + "되돌릴까요? 되돌릴 수 없습니다. 그렇게 하려면 yes를 입력하세요: "),
                terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print(Words("nothing was dropped", korean: "아무것도 버리지 않았습니다"))
                throw ExitCode.failure
            }
        }
        let discarded = try replica.discard(record.id)
        let what = Words(
            "dropped \(discarded.changes) change\(discarded.changes == 1 ? "" : "s") to \(record.kind) \(record.id)",
            korean: "\(record.kind) \(record.id)의 변경 \(discarded.changes)개를 버렸습니다")
        switch discarded.outcome {
        case .restored: print(what + Words(": it is back as the server has it", korean: ": 서버에 있는 그대로 돌아왔습니다"))
        case .removed:
            print(what + Words(": the server never had it, so it is gone", korean: ": 서버에 없던 기록이라 사라졌습니다"))
        case .redownloading:
            print(
                what
                    + Words(
                        ": this replica kept no copy of the server's version, so 'haven sync' downloads everything again",
                        korean: ": 이 복제본에 서버의 것이 남아 있지 않아서 'haven sync'가 모두 새로 내려받습니다"))
        }
    }
}
