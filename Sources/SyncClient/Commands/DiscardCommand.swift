import ArgumentParser
import Foundation
import HavenCore

/// `haven discard ID`: drops a record's unsent and rejected changes and puts it back as the
/// server has it, after a confirmation (or `--yes`).
struct DiscardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard", abstract: "Drop a record's unsent or rejected changes and restore the server's version.",
        discussion: """
            For an edit the server refused (see 'haven status') or one you no longer want to send. The \
            record is put back as this replica last pulled it from the server; a record created here and \
            never accepted by the server is removed. What is dropped cannot be brought back.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The record's id, or its first characters.") var id: String
    @Flag(help: "Drop without asking (for scripts).") var yes = false

    func run() throws {
        let replica = try replica.open()
        let (record, changes) = try replica.pendingChanges(of: id)
        if changes > 0, !yes {
            print(
                "Drop \(changes) unsent or rejected change\(changes == 1 ? "" : "s") to \(record.kind) \(record.id) and "
                    + "restore the server's version? This cannot be undone. Type yes: ",
                terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print("nothing was dropped")
                throw ExitCode.failure
            }
        }
        let discarded = try replica.discard(record.id)
        let what = "dropped \(discarded.changes) change\(discarded.changes == 1 ? "" : "s") to \(record.kind) \(record.id)"
        switch discarded.outcome {
        case .restored: print("\(what): it is back as the server has it")
        case .removed: print("\(what): the server never had it, so it is gone")
        case .redownloading:
            print("\(what): this replica kept no copy of the server's version, so 'haven sync' downloads everything again")
        }
    }
}
