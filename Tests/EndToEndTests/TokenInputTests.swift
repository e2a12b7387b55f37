import Foundation
import Testing
import TestSupport

/// `haven init` takes its token from a file or standard input, so that it stays out of `ps` and
/// the shell's history (issue 19, item 15); `--token T` still works.
@Suite(.serialized) struct TokenInputTests {
    @Test(arguments: ["--token-file", "--token -"])
    func tokenOffTheCommandLineIsStoredAndSent(source: String) async throws {
        try await HostileServer.run({ _ in .json(HostilePages.page()) }) { server in
            // Given a token in a file, or on standard input, with the newline an editor or echo leaves
            let device = Device("token", in: try TemporaryDirectory())
            let secret = "hvn_from-\(source == "--token -" ? "stdin" : "file")-0123456789"
            let file = device.directory.path("token.txt")
            try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let arguments =
                source == "--token -" ? ["--token", "-"] : ["--token-file", file]

            // When the replica is created with it and pulls
            let created = try await device.offPoolResult(
                ["init", "--server", server.url, "--offline"] + arguments, input: source == "--token -" ? Data((secret + "\n").utf8) : nil)
            #expect(created.status == 0, "\(created.stderr)")
            try await device.offPool("pull", "--retry-for", "0")

            // Then the server got exactly that token
            #expect(server.requests.first?.headers["authorization"] == "Bearer \(secret)")
        }
    }

    @Test(arguments: [
        (["--token", "a", "--token-file", "t.txt"], "either --token or --token-file, not both"),
        ([], "a token is needed"),
        (["--token-file", "empty.txt"], "holds no token"),
        (["--token-file", "missing.txt"], "cannot read the token file"),
    ])
    func tokenGivenWronglyIsRefusedWithWhatToDo(arguments: [String], message: String) throws {
        // Given a token given twice, not at all, as an empty file or as a missing file
        let directory = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.path("t.txt"), contents: Data("hvn_x\n".utf8))
        _ = FileManager.default.createFile(atPath: directory.path("empty.txt"), contents: Data("\n".utf8))
        let device = Device("token", in: directory)

        // When haven init runs with it
        let result = try device.havenResult(["init", "--server", "http://127.0.0.1:9"] + arguments)

        // Then it refuses, saying what to do, and creates no replica
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: device.replica))
    }
}
