import Foundation
import Testing
import TestSupport

/// `haven-server` as an administrator meets it (issue 15): token names that mean one token, a
/// mistyped `--database` that creates nothing, and a port in use said in words.
@Suite(.serialized)
struct ServerCommandHygieneTests {
    @Test func aSecondUnrevokedTokenOfOneNameIsRefusedNamingTheFirst() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        _ = try server.token(role: "editor", name: "amina")

        // When a second "amina" is created
        let again = try havenServer(server, "token", "create", "--role", "field", "--name", "amina")

        // Then it is refused, naming the first by id, and no second token exists
        let tokens = try listed(server)
        #expect(again.status != 0)
        #expect(again.stdout.isEmpty, "no secret printed")
        #expect(again.stderr.contains("a token named 'amina' exists already (id \(tokens[0].id)"), "\(again.stderr)")
        #expect(tokens.count == 1)
    }

    @Test func revokingAnAmbiguousNameRevokesNothingAndListsTheIds() throws {
        // Given amina's first token, revoked, and her second, in use
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        _ = try server.token(role: "editor", name: "amina")
        #expect(try havenServer(server, "token", "revoke", "amina").status == 0)
        _ = try server.token(role: "editor", name: "amina")
        let ids = try listed(server).map(\.id)

        // When "amina" is revoked by name
        let byName = try havenServer(server, "token", "revoke", "amina")

        // Then nothing is revoked, and both ids are listed to choose from
        #expect(byName.status != 0)
        #expect(byName.stderr.contains("2 tokens are named 'amina'; nothing revoked"), "\(byName.stderr)")
        for id in ids { #expect(byName.stderr.contains(id)) }
        #expect(try listed(server).filter { $0.revokedAt == nil }.count == 1)

        // And by id, the live one is revoked
        let live = try #require(try listed(server).first { $0.revokedAt == nil })
        let byID = try havenServer(server, "token", "revoke", live.id)
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(try listed(server).allSatisfy { $0.revokedAt != nil })
    }

    @Test func tokenListShowsLastUseInWords() throws {
        // Given a server with two tokens, one of which makes a request
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let used = try server.token(role: "reader", name: "used")
        _ = try server.token(role: "reader", name: "idle")
        let connection = try RawConnection(port: server.port, timeout: 30)
        try connection.write(
            Data("GET /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(used)\r\n\r\n".utf8))
        #expect(try connection.readResponse().status == 200)

        // When the tokens are listed
        let list = try havenServer(server, "token", "list")

        // Then the used one was used "just now" (or minutes ago), and the other "never"
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.contains("LAST USED") == true)
        let usedLine = try #require(lines.first { $0.contains(" used ") })
        let idleLine = try #require(lines.first { $0.contains(" idle ") })
        #expect(usedLine.contains("just now") || usedLine.contains(" ago"), "\(usedLine)")
        #expect(idleLine.contains("active    never"), "\(idleLine)")
    }

    @Test(arguments: [
        ["token", "create", "--role", "admin", "--name", "ops"], ["token", "list"], ["token", "revoke", "ops"],
        ["compact"], ["serve", "--port", "0"],
    ])
    func aMissingDatabaseIsRefusedNotCreated(_ command: [String]) throws {
        // Given a typo in the database's name
        let directory = try TemporaryDirectory()
        let typo = directory.path("haven.sqlit")

        // When a command other than import is given it
        let result = try run(Binaries.url("haven-server"), command + ["--database", typo], in: directory)

        // Then it is refused, naming the path and what to do, and no file is made
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("no database at '\(typo)'") && result.stderr.contains("pass --create"),
            "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo))
    }

    @Test func importAndAnExplicitCreateMakeANewDatabase() throws {
        let directory = try TemporaryDirectory()
        let pack = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Content/demo-pack.json").path
        let imported = try run(
            Binaries.url("haven-server"), ["import", "--database", directory.path("imported.sqlite"), pack],
            in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.path("imported.sqlite")))
        let created = try run(
            Binaries.url("haven-server"), ["token", "list", "--create", "--database", directory.path("new.sqlite")],
            in: directory)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.path("new.sqlite")))
    }

    @Test func serveOnAPortInUseSaysSoInWords() throws {
        // Given a server listening (as scripts/run's would)
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }

        // When another is started on its port
        let second = try havenServer(server, "serve", "--port", "\(server.port)")

        // Then it ends, saying which port and what to do, without the raw socket error
        #expect(second.status != 0)
        #expect(
            second.stderr.contains(
                "port \(server.port) is already in use on 127.0.0.1: another haven-server (scripts/run?) may be running; pass --port"
            ), "\(second.stderr)")
        #expect(!second.stderr.contains("errno"))
    }

    /// Runs `haven-server ARGS --database` the server's database.
    private func havenServer(_ server: ServerProcess, _ arguments: String...) throws -> ProcessResult {
        try run(Binaries.url("haven-server"), arguments + ["--database", server.database], in: server.directory)
    }

    /// A token as `token list --json` shows it.
    private struct Listed: Decodable {
        var id: String
        var revokedAt: UInt64?
    }

    /// `token list --json`, newest first.
    private func listed(_ server: ServerProcess) throws -> [Listed] {
        let result = try havenServer(server, "token", "list", "--json")
        guard result.status == 0 else { throw ClientFailure("token list failed: \(result.stderr)") }
        return try JSONDecoder().decode([Listed].self, from: Data(result.stdout.utf8))
    }
}
