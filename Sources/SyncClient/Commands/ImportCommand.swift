import ArgumentParser
import Foundation
import HavenCore

/// `haven import FILE`: a content pack's records as local edits, to send with `haven push`.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add and update records from a content pack (haven-pack/1), as unsent changes.",
        discussion: """
            Records already in the replica get only the fields that differ. A record changed here \
            after the pack was made (after the version an exported pack records, or after the \
            pack's "date") is left as it is and listed, unless --overwrite. Records without an id \
            are given one, written back into the file. The whole pack is saved in one step: a pack \
            with a bad record is refused, every bad record listed, and nothing is saved.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The pack's JSON file, or - for standard input.") var file: String
    @Flag(help: "Print what would change, field by field, and save nothing.") var dryRun = false
    @Flag(help: "Replace records changed here after the pack was made.") var overwrite = false
    @Flag(help: "Print a JSON summary.") var json = false

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
        for warning in reading.warnings { FileHandle.standardError.write(Data(TerminalText.escaped("warning: \(warning)\n").utf8)) }
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
                FileHandle.standardError.write(Data("\rimporting: \(done)/\(pack.records.count) records".utf8))
            }
        }
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        summary.generatedIDs = reading.generatedIDs.map { .init(number: $0, id: pack.records[$0 - 1].id) }
        let written = try dryRun ? false : ContentPackFile.writeGeneratedIDs(reading, original: data, to: file)
        if json { return try printJSON(summary) }
        for line in summary.report(file: file, dryRun: dryRun) { print(line) }
        if !dryRun { for line in ContentPackFile.generatedIDsReport(reading, path: file, written: written) { print(line) } }
        if !dryRun && summary.added + summary.updated > 0 { print("run 'haven push' to send them") }
    }
}
