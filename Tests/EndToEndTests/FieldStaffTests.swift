import Foundation
import HavenCore
import Testing
import TestSupport

/// Field staff never stuck, errors in words (issue 15), through the real `haven` and
/// `haven-server`: a new token or server without losing unsent changes, a server checked at
/// init, edits refused before saving as the server would refuse them, rejected changes
/// discarded, and failures said in words (JSON with `--json`).
@Suite(.serialized)
struct FieldStaffTests {
    /// A started server with one editor, a published story by that editor, and `directory`.
    struct World {
        let directory: TemporaryDirectory
        let server: ServerProcess
        let editor: Device
        let story: String

        init() throws {
            directory = try TemporaryDirectory()
            server = ServerProcess(in: directory)
            try server.start()
            editor = Device("editor", in: directory)
            try editor.haven("init", "--server", server.url, "--token", try server.token(role: "editor", name: "ed"))
            story = try editor.haven(
                "stories", "add", "--title", "Published", "--body", "By an editor", "--language", "en", "--status",
                "published")
            try editor.haven("sync", "--retry-for", "0")
        }

        /// A replica made with a new token of `role` named `name`, checked with the server.
        func device(_ file: String, role: String, name: String) throws -> Device {
            let device = Device(file, in: directory)
            try device.haven("init", "--server", server.url, "--token-file", try tokenFile(role: role, name: name))
            return device
        }

        /// A token file for a new token of `role`.
        func tokenFile(role: String, name: String) throws -> String {
            let file = directory.path("\(name).token")
            try Data((try server.token(role: role, name: name) + "\n").utf8).write(to: URL(fileURLWithPath: file))
            return file
        }
    }

    // MARK: - haven login

    @Test func loginWithANewTokenKeepsEveryUnsentChange() throws {
        // Given a field replica with two unsent stories, whose token is then revoked
        let world = try World()
        let device = try world.device("field", role: "field", name: "amina")
        try device.haven("sync", "--retry-for", "0")
        let first = try device.haven("stories", "add", "--title", "One", "--body", "Typed offline", "--language", "ko")
        let second = try device.haven("stories", "add", "--title", "Two", "--body", "Also offline", "--language", "ko")
        try run(Binaries.url("haven-server"), ["token", "revoke", "--database", world.server.database, "amina"], in: world.directory)
        let stranded = try device.havenResult(["sync", "--retry-for", "0"])
        #expect(stranded.status != 0 && stranded.stderr.contains("401"), "\(stranded.stderr)")

        // When the person logs in with a new token read from standard input
        let secret = try world.server.token(role: "field", name: "amina-2")
        let login = try device.havenResult(["login", "--token", "-"], input: Data((secret + "\n").utf8))

        // Then the replica keeps its changes, and the next sync sends both
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("amina-2's, a field token; 2 unsent changes kept"), "\(login.stdout)")
        let synced = try device.haven("sync", "--retry-for", "0")
        #expect(synced.contains("pushed 2 changes (2 applied)"), "\(synced)")
        let onServer = try world.editor.haven("sync", "--retry-for", "0")
        #expect(onServer.contains("pulled 2 records"), "\(onServer)")
        #expect(try world.editor.haven("stories", "show", first).contains("Typed offline"))
        #expect(try world.editor.haven("stories", "show", second).contains("Also offline"))
    }

    @Test func loginToAnotherServersDatabaseDownloadsAgainKeepingUnsentChanges() throws {
        // Given an editor's replica synced with one server, with an unsent story
        let world = try World()
        let device = try world.device("moving", role: "editor", name: "bora")
        try device.haven("sync", "--retry-for", "0")
        let unsent = try device.haven("stories", "add", "--title", "Unsent", "--body", "Kept", "--language", "en")

        // When it logs in to a new server holding another database
        let other = try TemporaryDirectory()
        let moved = ServerProcess(in: other)
        try moved.start()
        defer { moved.stop() }
        let file = other.path("bora.token")
        try Data(try moved.token(role: "editor", name: "bora").utf8).write(to: URL(fileURLWithPath: file))
        let login = try device.haven("login", "--server", moved.url, "--token-file", file)

        // Then it says the next sync downloads everything again; that sync drops the old
        // server's records, keeps and sends the unsent story
        #expect(login.contains("another database"), "\(login)")
        let synced = try device.haven("sync", "--retry-for", "0")
        #expect(synced.contains("pushed 1 change (1 applied)"), "\(synced)")
        let listed = try device.haven("stories", "list")
        #expect(listed.contains("Unsent") && !listed.contains("Published"), "\(listed)")
        #expect(try device.haven("status").contains("syncs with \(moved.url)"))
        #expect(try device.haven("stories", "show", unsent).contains("title: Unsent"))
    }

    // MARK: - haven init checks the server

    @Test func initSaysWhichCheckFailedAndSavesNothing() async throws {
        let world = try World()
        let token = try world.tokenFile(role: "field", name: "check")
        let (url, directory) = (world.server.url, world.directory)
        try await HostileServer.run({ _ in
            HostileServer.Answer(status: 200, headers: ["Content-Type": "text/html"], body: Data("<html>router</html>".utf8))
        }) { other in
            let cases: [(server: String, token: String, says: String)] = [
                // Nothing listens on port 9: the wrong port
                ("http://127.0.0.1:9", token, "cannot connect to http://127.0.0.1:9: connection refused"),
                // A Haven server, under a path it does not serve
                ("\(url)/haven", token, "reaches a Haven server, but not at its root"),
                // Another HTTP service
                (other.url, token, "\(other.url) answers, but is not a Haven server"),
                // A Haven server, with a token it does not know
                (url, directory.path("editor.sqlite"), "is a Haven server, but it refused the token"),
            ]
            for (server, token, says) in cases {
                let device = Device("checked-\(UUID().uuidString)", in: directory)
                let wrongToken = token.hasSuffix(".sqlite")
                let arguments = ["init", "--server", server] + (wrongToken ? ["--token", "hvn_unknown"] : ["--token-file", token])
                let result = try await device.offPoolResult(arguments)
                #expect(result.status != 0, "\(server)")
                #expect(result.stderr.contains(says), "\(server): \(result.stderr)")
                #expect(result.stderr.contains("nothing was saved") || result.stderr.contains("Nothing was saved"))
                #expect(!FileManager.default.fileExists(atPath: device.replica), "\(server)")
            }
        }
    }

    // MARK: - Role and limits, before saving

    @Test func editsTheRoleCannotMakeAreRefusedBeforeSaving() throws {
        // Given a field replica and a reader replica, both synced (the published story pulled)
        let world = try World()
        let field = Device("field", in: world.directory)
        let created = try field.haven(
            "init", "--server", world.server.url, "--token-file", try world.tokenFile(role: "field", name: "amina"))
        #expect(created.contains("the token is amina's, a field token"), "\(created)")
        try field.haven("sync", "--retry-for", "0")
        let reader = try world.device("reader", role: "reader", name: "rin")

        // When field staff edit the published story, or publish, and a reader adds a story
        let edit = try field.havenResult(["stories", "edit", world.story, "--title", "Changed"])
        let publish = try field.havenResult(
            ["stories", "add", "--title", "T", "--body", "B", "--language", "en", "--status", "published"])
        let resource = try field.havenResult(["resources", "add", "--name", "N", "--category", "shelter", "--country", "KR"])
        let read = try reader.havenResult(["stories", "add", "--title", "T", "--body", "B", "--language", "en"])

        // Then each is refused at once, with the server's words, and nothing is saved or sent
        let expected = [
            (edit, "record \(world.story): published stories can be edited by editors only"),
            (publish, "status: field staff cannot publish"), (resource, "field staff cannot change resources"),
            (read, "a reader token cannot change records"),
        ]
        for (result, message) in expected {
            #expect(result.status != 0)
            #expect(result.stderr.contains("not saved: \(message) (forbidden)"), "\(result.stderr)")
        }
        #expect(try field.haven("status").contains("Nothing is waiting to be sent."))
        #expect(try reader.haven("status").contains("Nothing is waiting to be sent."))
        #expect(try field.haven("stories", "show", world.story).contains("Published"))

        // And what the role may do is still saved: a field worker's own draft
        try field.haven("stories", "add", "--title", "Mine", "--body", "A draft", "--language", "ko")
        #expect(try field.haven("sync", "--retry-for", "0").contains("(1 applied)"))
    }

    @Test func aRecordOverTheServersLimitIsRefusedAtSave() throws {
        // Given a field replica checked with the server (which takes 256 KiB a change)
        let world = try World()
        let field = try world.device("field", role: "field", name: "amina")
        let body = world.directory.path("body.txt")
        try Data(String(repeating: "탈", count: 99_000).utf8).write(to: URL(fileURLWithPath: body))

        // When a 99,000-character Korean body (297,000 bytes) is saved
        let result = try field.havenResult(
            ["stories", "add", "--title", "긴 이야기", "--body-file", body, "--language", "ko"])

        // Then it is refused at save, naming the limit and the field, and nothing waits to be sent
        #expect(result.status != 0)
        #expect(result.stderr.contains("more than the 262144 bytes (256 KiB) the server takes for one change"), "\(result.stderr)")
        #expect(result.stderr.contains("body (99000 characters, 297000 bytes)"), "\(result.stderr)")
        #expect(try field.haven("status").contains("Nothing is waiting to be sent."))

        // And the edit commands' help states the limits
        let help = try field.havenResult(["stories", "add", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.status == 0 && words.contains("whole change at most 262144 bytes of JSON"), "\(help.stdout)")
        #expect(words.contains("body 100000 characters"), "\(help.stdout)")
    }

    // MARK: - Discard and export

    @Test func aRejectedEditIsDiscardedAndLeftOutOfExports() throws {
        // Given a field worker's own draft, synced, which an editor then publishes; the field
        // replica, not having pulled since, edits the draft and has the edit rejected
        let world = try World()
        let field = try world.device("field", role: "field", name: "amina")
        let story = try field.haven("stories", "add", "--title", "Published", "--body", "Mine", "--language", "ko")
        try field.haven("sync", "--retry-for", "0")
        try world.editor.haven("sync", "--retry-for", "0")
        try world.editor.haven("stories", "edit", story, "--status", "published")
        try world.editor.haven("sync", "--retry-for", "0")
        try field.haven("stories", "edit", story, "--title", "Changed by field staff")
        let synced = try field.haven("push", "--retry-for", "0")
        #expect(synced.contains("1 rejected"), "\(synced)")

        // When it exports, Then the rejected title is left out unless asked for
        try field.haven("export", "plain.json", "--plaintext")
        try field.haven("export", "all.json", "--include-rejected", "--plaintext")
        let plain = try String(contentsOfFile: world.directory.path("plain.json"), encoding: .utf8)
        let all = try String(contentsOfFile: world.directory.path("all.json"), encoding: .utf8)
        #expect(plain.contains("\"Published\"") && !plain.contains("Changed by field staff"))
        #expect(all.contains("Changed by field staff"))

        // When it discards without --yes and does not confirm, Then nothing is dropped
        let declined = try field.havenResult(["discard", String(story.prefix(8))], input: Data("no\n".utf8))
        #expect(declined.status != 0)
        #expect(declined.stdout.contains("nothing was dropped"))

        // When it confirms, Then the story is back as the server has it, and nothing is rejected
        let discarded = try field.havenResult(["discard", String(story.prefix(8))], input: Data("yes\n".utf8))
        #expect(discarded.status == 0, "\(discarded.stderr)")
        #expect(discarded.stdout.contains("dropped 1 change to story \(story): it is back as the server has it"))
        #expect(try field.haven("stories", "show", story).contains("title: Published"))
        let status = try field.haven("status")
        #expect(!status.contains("refused") && status.contains("Nothing is waiting to be sent."), "\(status)")
        #expect(try field.haven("sync", "--retry-for", "0").hasPrefix("pulled 1 record"))
    }

    // MARK: - Errors in words

    @Test func missingFilesAndDirectoriesAreNamedWithWhatToDo() throws {
        let world = try World()
        let device = try world.device("words", role: "editor", name: "eun")
        let cases: [(arguments: [String], says: String)] = [
            (["login", "--token-file", "nowhere/token.txt"], "cannot read the token file nowhere/token.txt: there is no directory"),
            (["import", "missing-pack.json"], "cannot read the pack missing-pack.json: there is no such file"),
            (["export", "no/such/dir/out.json", "--plaintext"], "cannot write the pack no/such/dir/out.json: there is no directory"),
            (["status", "--replica", world.directory.url.path], "is a directory"),
        ]
        for (arguments, says) in cases {
            let result = try device.havenResult(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(says), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("Code="), "\(result.stderr)")
        }
    }

    @Test func httpsAgainstAPlainServerSaysSo() throws {
        let world = try World()
        let plain = world.server.url.replacingOccurrences(of: "http://", with: "https://")
        let device = Device("tls", in: world.directory)
        let result = try device.havenResult(["init", "--server", plain, "--token", "hvn_x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("does not speak https"), "\(result.stderr)")
        #expect(result.stderr.contains(world.server.url), "\(result.stderr)")
        #expect(!result.stderr.contains("-1"), "\(result.stderr)")
    }

    @Test func jsonCommandsFailWithAJSONErrorObject() throws {
        // Given a replica whose server is down
        let directory = try TemporaryDirectory()
        let device = Device("json", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_x", "--offline")

        // When sync --json fails, and a --json command is given a bad option value
        let sync = try device.havenResult(["sync", "--json", "--retry-for", "0"])
        let bad = try device.havenResult(["sync", "--json", "--page-size", "0"])
        let missing = try device.havenResult(["status", "--json", "--replica", directory.path("none.sqlite")])

        // Then each prints one JSON error object and exits non-zero
        for (result, code) in [(sync, "unreachable"), (bad, "invalid_arguments"), (missing, "command_failed")] {
            #expect(result.status != 0)
            let body = try JSONDecoder().decode(ErrorBody.self, from: Data(result.stdout.utf8))
            #expect(body.error.code.rawValue == code, "\(result.stdout)")
            #expect(!body.error.message.isEmpty)
        }
        let error = try JSONDecoder().decode(ErrorBody.self, from: Data(sync.stdout.utf8)).error
        #expect(error.message.contains("cannot connect to http://127.0.0.1:9: connection refused"), "\(error.message)")
    }
}
