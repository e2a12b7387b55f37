import ArgumentParser
import Foundation
import HavenCore

/// `haven-server import FILE`: loads a content pack as new edits by the server itself.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a content pack (haven-pack/1) into the database.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The pack's JSON file.") var file: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError(FileProblem.reading(file, purpose: "the pack"))
        }
        let pack: ContentPack
        do {
            pack = try ContentPack.decode(data)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let summary = try await database.withStore(mayCreate: true) { try await PackImporter(log: ChangeLog(storage: $0)).importPack(pack) }
        print("imported \(summary.applied) records from \(file) (\(summary.rejected.count) rejected)")
        for problem in summary.rejected { print("  rejected: \(problem)") }
        if !summary.rejected.isEmpty { throw ExitCode.failure }
    }
}
