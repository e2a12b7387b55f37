import ArgumentParser
import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// `haven` parsed in-process: options, validation messages and what the verbs do to a replica.
@Suite(.temporaryDirectory)
struct CommandParsingTests {
    @Test func parsesStoriesAdd() throws {
        let command = try HavenCommand.parseAsRoot([
            "stories", "add", "--title", "T", "--body", "B", "--language", "en", "--tags", "a,b", "--replica", "/tmp/x",
        ])

        let add = try #require(command as? RecordsCommand<StoryFields>.Add)
        #expect(add.replica.path == "/tmp/x")
        #expect(try add.fields.values() == ["title": "T", "body": "B", "language": "en", "tags": ["a", "b"]])
    }

    @Test func parsesResourcesEdit() throws {
        let command = try HavenCommand.parseAsRoot(["resources", "edit", "ID", "--country", "KR"])

        let edit = try #require(command as? RecordsCommand<ResourceFields>.Edit)
        #expect(edit.id == "ID")
        #expect(try edit.fields.values() == ["country": "KR"])
    }

    @Test func parsesSync() throws {
        let command = try HavenCommand.parseAsRoot(["sync", "--json", "--batch-size", "10"])

        let sync = try #require(command as? SyncCommand)
        #expect(sync.options.json)
        #expect(sync.options.batchSize == 10)
        #expect(sync.options.pageSize == 500)
    }

    @Test(arguments: [
        (["sync", "--batch-size", "0"], "--batch-size must be from 1 to 1000"),
        (["push", "--batch-size", "1001"], "--batch-size must be from 1 to 1000"),
        (["pull", "--page-size", "0"], "--page-size must be from 1 to 100000"),
        (["pull", "--page-size", "100001"], "--page-size must be from 1 to 100000"),
        (["sync", "--timeout", "1e16"], "--timeout must be from 1 to 3600 seconds"),
        (["sync", "--watch", "--timeout", "0.5"], "--timeout must be from 1 to 3600 seconds"),
        (["push", "--timeout", "inf"], "--timeout must be from 1 to 3600 seconds"),
        (["init", "--server", "ftp://x", "--token", "t"], "--server must be an http:// or https:// address"),
        (["init", "--server", "http://127.0.0.1:8080", "--token", "a b"], "--token must be a token without spaces"),
        (["stories", "add", "--body", "B", "--body-file", "b.txt"], "give --body or --body-file, not both"),
    ])
    func invalidOptionsAreRefusedByName(arguments: [String], message: String) throws {
        let error = #expect(throws: (any Error).self) { try HavenCommand.parseAsRoot(arguments) }

        let text = error.map { HavenCommand.message(for: $0) } ?? ""
        #expect(text.hasPrefix(message), "\(text)")
    }

    @Test func editWithoutFieldsSaysNothingToChange() throws {
        // Given a replica with one story
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())

        // When `stories edit ID` runs without a field option
        var command = try HavenCommand.parseAsRoot(["stories", "edit", id, "--replica", replica.path])
        let error = #expect(throws: (any Error).self) { try command.run() }

        // Then it says so, and nothing was written
        #expect(error.map { HavenCommand.message(for: $0) } == "nothing to change: give at least one field option")
        #expect(try replica.record(id).values == Fixtures.story())
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }

    @Test func editByPrefixChangesTheRecord() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story(), id: RecordIDs.first)

        var command = try HavenCommand.parseAsRoot([
            "stories", "edit", "abcd1", "--title", "New title", "--set", "summary=", "--replica", replica.path,
        ])
        try command.run()

        #expect(try replica.record(RecordIDs.first).values["title"] == "New title")
        #expect(try replica.record(RecordIDs.first).fields["summary"] == nil)
        #expect(try replica.pendingChanges(limit: 10).last?.record.values == ["title": "New title"])
    }

    @Test func addMakesADraftUnlessToldOtherwise() throws {
        let replica = try makeEmptyReplica()

        var command = try HavenCommand.parseAsRoot([
            "stories", "add", "--title", "T", "--body", "B", "--language", "ko", "--replica", replica.path,
        ])
        try command.run()

        let stories = try replica.records(.story)
        #expect(stories.count == 1)
        #expect(stories.first?.values == ["title": "T", "body": "B", "language": "ko", "status": "draft"])
    }

    @Test func initCreatesAReplicaForTheServer() async throws {
        let path = TemporaryDirectory.path("nested/replica.sqlite")

        var command = try #require(
            HavenCommand.parseAsRoot([
                "init", "--no-encryption", "--server", "http://127.0.0.1:8080", "--token", "t0k3n", "--replica", path, "--offline",
            ]) as? any AsyncParsableCommand)
        try await command.run()

        let settings = try Replica.open(at: path).settings()
        #expect(settings.server.absoluteString == "http://127.0.0.1:8080")
        #expect(settings.token == "t0k3n")
        #expect(settings.cursor == nil)
        var again = try #require(
            HavenCommand.parseAsRoot([
                "init", "--no-encryption", "--server", "http://127.0.0.2:8080", "--token", "t", "--replica", path, "--offline",
            ]) as? any AsyncParsableCommand)
        await #expect(throws: ClientError.self) { try await again.run() }
    }

    @Test func commandOnAMissingReplicaSaysToInit() throws {
        let path = TemporaryDirectory.path("absent.sqlite")
        var command = try HavenCommand.parseAsRoot(["stories", "list", "--replica", path])

        let error = #expect(throws: ClientError.self) { try command.run() }

        #expect(error?.message == "no replica at \(path): run 'haven init --server URL --token-file PATH' first")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test(arguments: [
        ("region=Seoul", "region", JSONValue.string("Seoul")),
        (#"customField={"a":1}"#, "customField", .object(["a": .int(1)])),
        ("count=3", "count", .int(3)),
        ("ratio=0.5", "ratio", .double(0.5)),
        ("flag=true", "flag", .bool(true)),
        (#"list=["x","y"]"#, "list", .array(["x", "y"])),
        (#"quoted="3""#, "quoted", .string("3")),
        ("summary=", "summary", .null),
        ("equation=a=b", "equation", .string("a=b")),
        ("note=not {json", "note", .string("not {json")),
    ])
    func setReadsJSONOrText(assignment: String, field: String, value: JSONValue) throws {
        let command = try HavenCommand.parseAsRoot(["stories", "edit", "ID", "--set", assignment])

        let edit = try #require(command as? RecordsCommand<StoryFields>.Edit)
        #expect(try edit.fields.values() == [field: value])
    }

    @Test func setWithoutEqualsIsRefused() throws {
        let command = try HavenCommand.parseAsRoot(["stories", "edit", "ID", "--set", "region"])
        let edit = try #require(command as? RecordsCommand<StoryFields>.Edit)

        let error = #expect(throws: ArgumentParser.ValidationError.self) { try edit.fields.values() }

        #expect(error?.message == "--set region: write it as name=value")
    }
}
