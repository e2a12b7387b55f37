import Foundation
import Testing
import TestSupport

/// The embedding example (`Examples/`, issue 18), built as its own package and run against a real
/// `haven-server`: it opens a replica `haven init` made, syncs it with a progress line, and
/// prints each change as it arrives.
@Suite(.serialized)
struct EmbeddingExampleTests {
    @Test func followChangesSyncsAReplicaAndPrintsEachChangeAsItArrives() throws {
        // Given two stories an editor published, and a reader's encrypted replica that never synced
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let editor = Device("editor", in: directory)
        try editor.haven("init", "--server", server.url, "--token-file", try Self.tokenFile(server, role: "editor", in: directory))
        let shelter = try editor.haven(
            "stories", "add", "--title", "Shelter in Seoul", "--body", "Open at night", "--language", "en", "--status", "published")
        let hotline = try editor.haven(
            "stories", "add", "--title", "A hotline", "--body", "Call any time", "--language", "en", "--status", "published")
        try editor.haven("sync", "--retry-for", "0")
        let reader = Device("reader", in: directory)
        try reader.haven("init", "--server", server.url, "--token-file", try Self.tokenFile(server, role: "reader", in: directory))

        // When the example syncs the reader's replica
        let result = try run(try Self.buildExample(), [reader.replica, TestPassphrase.file], in: directory)

        // Then it printed each change, a progress line, and what the sync did
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(Set(lines.dropLast()) == ["story \(shelter): Shelter in Seoul", "story \(hotline): A hotline"], "\(lines)")
        #expect(lines.last == "synced: 0 sent, 2 received")
        #expect(result.stderr.contains("syncing: 0 sent, 2 received"), "\(result.stderr)")
        // And the replica holds the stories, as haven shows them
        #expect(try reader.haven("stories", "show", shelter).contains("Open at night"))
    }

    /// A token file for a new token of `role`.
    private static func tokenFile(_ server: ServerProcess, role: String, in directory: TemporaryDirectory) throws -> String {
        let file = directory.path("\(role).token")
        try Data((try server.token(role: role, name: role) + "\n").utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Builds the example package in its own build folder (`scripts/test` has built it already:
    /// then this only checks it is current) and returns the program.
    private static func buildExample() throws -> URL {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples")
        let scratch = try TemporaryDirectory()
        let build = try run(
            URL(fileURLWithPath: "/usr/bin/env"), ["swift", "build", "--package-path", examples.path, "--product", "follow-changes"],
            in: scratch)
        try #require(build.status == 0, "the example did not build: \(build.stdout) \(build.stderr)")
        return examples.appendingPathComponent(".build/debug/follow-changes")
    }
}
