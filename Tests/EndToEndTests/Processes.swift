import Foundation
import HavenCore
import Testing
import TestSupport

/// The built `haven` and `haven-server` binaries, found beside the test bundle or in `.build/debug`.
enum Binaries {
    static let directory: URL = {
        let candidates = [
            ProcessInfo.processInfo.environment["HAVEN_BIN_DIR"].map { URL(fileURLWithPath: $0) },
            Bundle.main.executableURL?.deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("haven").path) }
            ?? candidates.last!
    }()

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

/// What a finished process printed and how it ended.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var reason: Process.TerminationReason
}

/// Runs `executable` to completion with output captured in files (no pipe can fill up), and
/// `input` as its standard input (none by default).
@discardableResult
func run(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
    in directory: TemporaryDirectory
) throws -> ProcessResult {
    let process = try launch(executable, arguments, environment: environment, input: input, in: directory)
    process.process.waitUntilExit()
    return process.result()
}

/// A started process with its output files.
struct RunningProcess {
    let process: Process
    let stdoutURL: URL
    let stderrURL: URL

    func result() -> ProcessResult {
        ProcessResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "",
            reason: process.terminationReason)
    }
}

func launch(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
    in directory: TemporaryDirectory
) throws -> RunningProcess {
    let name = UUID().uuidString
    let stdoutURL = directory.url.appendingPathComponent("\(name).out")
    let stderrURL = directory.url.appendingPathComponent("\(name).err")
    _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory.url
    var base = ProcessInfo.processInfo.environment
    if executable.lastPathComponent == "haven" {
        base.merge(TestPassphrase.environment) { $1 }
        // English, whatever the shell running the tests speaks: tests read its words. A test
        // that wants Korean passes LANG (Language.swift).
        base["LC_ALL"] = nil
        base["LC_MESSAGES"] = nil
        base["LANG"] = "C"
    }
    process.environment = base.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    if let input {
        let inputURL = directory.url.appendingPathComponent("\(name).in")
        try input.write(to: inputURL)
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    return RunningProcess(process: process, stdoutURL: stdoutURL, stderrURL: stderrURL)
}

/// What every `haven` the tests run is given, unless a test says otherwise: a passphrase file, so
/// that `haven init` makes encrypted replicas and every command opens them, and a lower scrypt
/// cost for the key files `init` makes (test-only: hundreds of runs at full cost add minutes).
enum TestPassphrase {
    static let text = "correct horse battery staple 한글"

    static let file: String = {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("haven-test-passphrase-\(ProcessInfo.processInfo.processIdentifier)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return path
    }()

    static var environment: [String: String] {
        ["HAVEN_PASSPHRASE_FILE": file, "HAVEN_TEST_ONLY_SCRYPT_LOG2N": "10"]
    }
}

/// A real `haven-server serve` on a free loopback port, with its own database.
final class ServerProcess {
    let directory: TemporaryDirectory
    /// What `--database` names: a SQLite file, or a `postgres://` URL.
    let database: String
    private(set) var running: RunningProcess?
    private(set) var url = ""

    /// A server on `database`, by default `server.sqlite` in `directory`; several servers may
    /// share one `postgres://` database.
    init(in directory: TemporaryDirectory, database: String? = nil) {
        self.directory = directory
        self.database = database ?? directory.path("server.sqlite")
    }

    /// Starts the server and waits for its "listening" line.
    ///
    /// - Parameter arguments: further options of `haven-server serve`.
    func start(logLevel: String = "warning", arguments: [String] = []) throws {
        try launchServe(logLevel: logLevel, arguments: arguments)
        try waitUntilListening()
    }

    /// Starts the server without waiting: several servers can be started at the same moment.
    ///
    /// Editors publish in one step (`--review single`) unless `arguments` say `--review`: the
    /// suites that are not about review publish as an editor alone.
    func launchServe(logLevel: String = "warning", arguments: [String] = []) throws {
        let review = arguments.contains("--review") ? [] : ["--review", "single"]
        running = try launch(
            Binaries.url("haven-server"),
            ["serve", "--database", database, "--create", "--port", "0", "--log-level", logLevel] + review + arguments,
            in: directory)
    }

    /// Waits for the "listening" line of the server that ``launchServe(logLevel:arguments:)`` started.
    func waitUntilListening() throws {
        guard let running else { throw ClientFailure("haven-server was not started") }
        var listening: Substring?
        // Polled; the limit only stops a hang.
        try? Polling.until("haven-server listening", limit: 120) {
            let output = (try? String(contentsOf: running.stdoutURL, encoding: .utf8)) ?? ""
            listening = output.split(separator: "\n").first { $0.contains("listening on ") }
            return listening != nil || !running.process.isRunning
        }
        if let listening {
            url = String(listening.split(separator: " ").last!)
            return
        }
        let result = running.result()
        let ending =
            running.process.isRunning
            ? "still not listening after 120 s"
            : "ended with \(result.reason == .exit ? "status" : "signal") \(result.status)"
        throw ClientFailure("haven-server did not start, \(ending): \(result.stderr)\(result.stdout)")
    }

    /// Creates a token with `haven-server token create` and returns its secret; the server's
    /// database is created if it is not yet (`--create`), so tokens can be made before `start`.
    func token(role: String, name: String) throws -> String {
        let result = try run(
            Binaries.url("haven-server"),
            ["token", "create", "--database", database, "--create", "--role", role, "--name", name], in: directory)
        guard result.status == 0 else { throw ClientFailure("token create failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        guard let process = running?.process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// One `haven` replica driven through the real binary.
struct Device {
    let replica: String
    let directory: TemporaryDirectory

    init(_ name: String, in directory: TemporaryDirectory) {
        self.replica = directory.path("\(name).sqlite")
        self.directory = directory
    }

    /// Runs `haven` and expects it to succeed; returns its standard output.
    @discardableResult
    func haven(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try havenResult(arguments)
        #expect(result.status == 0, "haven \(arguments.joined(separator: " ")) failed: \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func havenResult(_ arguments: [String], input: Data? = nil) throws -> ProcessResult {
        try run(Binaries.url("haven"), arguments, environment: ["HAVEN_REPLICA": replica], input: input, in: directory)
    }

    /// `haven … --json` decoded.
    func json<T: Decodable>(_ type: T.Type, _ arguments: String...) throws -> T {
        let output = try havenResult(arguments + ["--json"])
        return try JSONDecoder().decode(type, from: Data(output.stdout.utf8))
    }
}

struct ClientFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
