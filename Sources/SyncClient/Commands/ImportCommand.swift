import ArgumentParser
import Foundation
import HavenCore

/// `haven import FILE`: a content pack's records as local edits, to send with `haven push`.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add and update records from a content pack (haven-pack/1), as unsent changes.",
        discussion: """
            Records already in the replica get only the fields that differ. The whole pack is \
            saved in one step: a pack with one bad record is refused and nothing is saved.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The pack's JSON file, or - for standard input.") var file: String
    @Flag(help: "Print a JSON summary.") var json = false

    func run() throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ClientError(FileProblem.reading(file, purpose: "the pack"))
            }
            data = contents
        }
        let pack: ContentPack
        do {
            pack = try ContentPack.decode(data)
        } catch {
            throw ClientError("\(file): \(error); nothing was imported")
        }
        let replica = try replica.open()
        // Progress only for a person watching, and only when there is enough to wait for.
        let showsProgress = !json && isatty(STDERR_FILENO) == 1 && pack.records.count > Replica.importProgressInterval
        let summary = try replica.importPack(pack) { done in
            if showsProgress {
                FileHandle.standardError.write(Data("\rimporting: \(done)/\(pack.records.count) records".utf8))
            }
        }
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if json { return try printJSON(summary) }
        print("imported \(file): \(summary.added) added, \(summary.updated) updated, \(summary.unchanged) unchanged")
        if !summary.keptDeleted.isEmpty {
            print(
                "\(summary.keptDeleted.count) record(s) are deleted in this replica and were left deleted (restore them, then import again):"
            )
            for id in summary.keptDeleted { print("  \(id)") }
        }
        if summary.added + summary.updated > 0 { print("run 'haven push' to send them") }
    }
}
