import Foundation
import Testing
import TestSupport

/// The README's session, as a newcomer copies it (issue 15): every token file it uses is made in
/// it, its `haven-server` commands work in that order on a fresh directory, and it warns that
/// `scripts/run` already holds port 8080.
struct ReadmeSessionTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theSessionsServerCommandsMakeEveryTokenItUses() throws {
        let session = try Self.session()
        let commands = session.components(separatedBy: "\n").filter { $0.hasPrefix("$ ") }.map { String($0.dropFirst(2)) }

        // Every --token-file the session passes is written by one of its token create commands
        let used = commands.compactMap { $0.range(of: #"--token-file \S+"#, options: .regularExpression) }.count
        let made = commands.filter { $0.hasPrefix("haven-server token create") && $0.contains("> ") }
        #expect(used == 2 && made.count == 2, "\(commands)")
        for command in commands where command.contains("--token-file ") {
            let file = command.components(separatedBy: "--token-file ")[1].split(separator: " ")[0]
            #expect(made.contains { $0.hasSuffix("> \(file)") }, "no token create writes \(file)")
        }

        // And the server commands before `serve` run, in order, on an empty directory
        let directory = try TemporaryDirectory()
        for command in commands.prefix(while: { !$0.contains(" serve ") }) where command.hasPrefix("haven-server ") {
            var words = command.split(separator: " ").map(String.init).dropFirst()
            var output: String?
            if let arrow = words.firstIndex(of: ">") {
                output = words[words.index(after: arrow)]
                words = words[..<arrow]
            }
            let arguments = words.map { $0.hasPrefix("Content/") ? Self.readme.appendingPathComponent($0).path : $0 }
            let result = try run(Binaries.url("haven-server"), Array(arguments), in: directory)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            if let output { try Data(result.stdout.utf8).write(to: URL(fileURLWithPath: directory.path(output))) }
        }
    }

    @Test func theSessionSaysScriptsRunAlreadyServesOn8080() throws {
        let session = try Self.session(includingProse: true)
        let prose = session.replacingOccurrences(of: "\n", with: " ")
        #expect(prose.contains("`scripts/run` is running, it already serves on port 8080"), "\(prose)")
        #expect(prose.contains("--port 8081"))
    }

    /// The README's "A session" section: its console block, or with the prose before it.
    private static func session(includingProse: Bool = false) throws -> String {
        let text = try String(contentsOf: readme.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## A session").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        if includingProse { return section.components(separatedBy: "```console")[0] }
        return try #require(section.components(separatedBy: "```console").dropFirst().first)
            .components(separatedBy: "```")[0]
    }
}
