import ArgumentParser
import Foundation
import HavenCore

/// `haven wipe --yes`: destroys the replica at once, for a device in danger.
///
/// It never asks a question: a person in danger has no time for one, and scripts must know
/// what happens. Without `--yes` it only says what it would destroy.
struct WipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wipe", abstract: "Destroy the replica and its files at once (needs --yes).",
        discussion: """
            Overwrites the replica file and the files beside it with zeros, removes them, and \
            removes the directory 'haven init' made for them if nothing else is in it. Unsent \
            changes are lost. An encrypted replica's key file goes first: without it nothing \
            can be read back, even on flash storage. For a plaintext replica on flash storage the \
            overwrite is not a guarantee that the old data cannot be recovered.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Really destroy the replica, with its unsent changes.") var yes = false
    @Flag(help: "Print a JSON summary.") var json = false

    func run() throws {
        let path = replica.path
        guard yes else {
            let inventory = try Replica.wipeInventory(at: path)
            if inventory.files.isEmpty {
                printError("no replica at \(path): nothing to wipe")
            } else {
                printError(
                    "this would destroy \(path): \(describe(inventory.encrypted, records: inventory.records, unsent: inventory.unsentChanges))"
                )
                printError("nothing was deleted: run 'haven wipe --yes' to do it")
            }
            throw ExitCode.failure
        }
        let report = try Replica.wipe(at: path)
        if json { return try printJSON(report) }
        if report.removedFiles.isEmpty { return print("no replica at \(path): nothing to wipe") }
        print("wiped \(path): destroyed \(describe(report.encrypted, records: report.records, unsent: report.unsentChanges))")
        if !report.overwritten { print("the files were removed without being fully overwritten first") }
    }

    private func describe(_ encrypted: Bool, records: Int?, unsent: Int?) -> String {
        if encrypted { return "an encrypted replica, its key first: nothing in it can be read back" }
        guard let records, let unsent else {
            return "a replica that could not be read (how many unsent changes it held is unknown)"
        }
        let recordText = "\(records) record\(records == 1 ? "" : "s")"
        return unsent == 0
            ? "\(recordText) and no unsent changes"
            : "\(recordText) and \(unsent) unsent change\(unsent == 1 ? "" : "s") (never sent to the server)"
    }

    private func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
