import ArgumentParser
import Foundation
import HavenCore

/// `haven-server import FILE`: loads a content pack as new edits by the server itself.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a content pack (haven-pack/1) into the database.",
        discussion: """
            Records already in the database get only the fields that differ. A record changed \
            after the pack was made (after the version an exported pack records, or after the \
            pack's "date") is left as it is and listed, unless --overwrite. Records without an id \
            are given one, written back into the file. The pack is imported in one transaction: \
            when any record is refused, every refusal is listed and nothing is written.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The pack's JSON file.") var file: String
    @Flag(help: "Print what would change, field by field, and write nothing.") var dryRun = false
    @Flag(help: "Replace records changed after the pack was made.") var overwrite = false

    func run() async throws {
        let data: Data
        do {
            data = try ContentPackFile.read(file)
        } catch {
            throw CommandFailure("\(error.message)\nnothing was imported")
        }
        let reading: PackReading
        do {
            reading = try ContentPack.read(data)
        } catch {
            throw CommandFailure("\(file): \(error.message)\nnothing was imported")
        }
        for warning in reading.warnings { show("warning: \(warning)", to: .standardError) }
        let outcomes: [ImportOutcome]
        do {
            outcomes = try await database.withStore(mayCreate: true) {
                try await PackImporter(log: ChangeLog(storage: $0)).importPack(reading.pack, overwrite: overwrite, dryRun: dryRun)
            }
        } catch let refused as PackRefused {
            let lines = refused.refusals.map { "  record \($0.number) (\($0.id)): \($0.error.description)" }
            throw CommandFailure(
                "\(file): \(refused.refusals.count) of \(reading.pack.records.count) records refused:\n"
                    + lines.joined(separator: "\n") + "\nnothing was imported")
        }
        var summary = ImportSummary()
        for outcome in outcomes {
            summary.count(outcome.step, number: outcome.number, id: outcome.record.id)
            if dryRun {
                for line in outcome.step.preview(number: outcome.number, id: outcome.record.id, kind: outcome.record.kind) { show(line) }
            }
        }
        for line in summary.report(file: file, dryRun: dryRun) { show(line) }
        guard !dryRun else { return }
        let written = try ContentPackFile.writeGeneratedIDs(reading, original: data, to: file)
        for line in ContentPackFile.generatedIDsReport(reading, path: file, written: written) { show(line) }
    }

    /// A line for the operator's terminal, with the pack's control characters made visible.
    private func show(_ line: String, to handle: FileHandle = .standardOutput) {
        handle.write(Data((TerminalText.escaped(line) + "\n").utf8))
    }
}
