import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven`: a replica that works offline and syncs when a link comes back.
public struct HavenCommand: AsyncParsableCommand {
    /// The `haven` command and its subcommands.
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "haven",
            abstract: Words(
                "Read and write Haven stories and resources offline; sync when a link comes back.",
                korean: "Haven의 이야기와 지원 정보를 오프라인에서 읽고 씁니다. 연결이 돌아오면 동기화합니다.").text,
            discussion: Words(
                "The replica file is chosen by --replica or HAVEN_REPLICA (default ~/.haven/replica.sqlite).",
                korean: "복제본 파일은 --replica나 HAVEN_REPLICA로 정합니다 (기본값 ~/.haven/replica.sqlite).").text,
            subcommands: [
                InitCommand.self, LoginCommand.self, SyncCommand.self, PushCommand.self, PullCommand.self, StatusCommand.self,
                RecordsCommand<StoryFields>.self, RecordsCommand<ResourceFields>.self, ConflictsCommand.self,
                RetryCommand.self, DiscardCommand.self, SearchCommand.self, HistoryCommand.self, ReviewCommand.self,
                ImportCommand.self,
                ExportCommand.self, WipeCommand.self, PinCommand.self, EncryptCommand.self, PassphraseCommand.self,
                DuressCommand.self, VerifyCommand.self, MediaCommand.self,
            ])
    }

    /// A command with no options parsed yet.
    public init() {}

    /// Parses the process arguments and runs the chosen subcommand, async ones included, in the
    /// language the environment asks for (`Language`).
    public static func runMain() async {
        await Language.$current.withValue(Language(environment: ProcessInfo.processInfo.environment)) {
            await runInLanguage()
        }
    }

    private static func runInLanguage() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if wantsJSON, exitCode(for: error) != .success {  // Not --help, which is no failure.
                try? printJSON(ErrorBody(ErrorDetail(code: .invalidArguments, message: message(for: error))))
            }
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)  // What went wrong is printed already.
        } catch where exitCode(for: error) == .success {
            exit(withError: error)  // --help, which parsing leaves to a command that throws it.
        } catch let error as ArgumentParser.ValidationError where !wantsJSON {
            exit(withError: error)  // Our own words, shown with the usage.
        } catch {
            let failure = CommandFailure(error)
            if wantsJSON {
                try? printJSON(ErrorBody(ErrorDetail(code: failure.code, message: failure.message)))
            }
            exit(withError: failure)
        }
    }

    /// Whether the command line asks for JSON: a failure is then a JSON error object on
    /// standard output too, `{"error":{"code":…,"message":…}}`, as the server writes its own.
    private static var wantsJSON: Bool {
        CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
    }
}

/// A command's failure as a person reads it, and the code `--json` gives it: never a raw
/// Foundation or SwiftNIO dump (file errors name the file, link errors the address). The
/// message is in the person's language; the code never changes with it.
struct CommandFailure: Error, CustomStringConvertible {
    var code: ErrorCode
    var message: String

    init(_ error: any Error) {
        switch ClientError.diskFull(from: error) ?? error {
        case let error as ArgumentParser.ValidationError:
            code = .invalidArguments
            message = error.message
        case let error as ClientError:
            code = error.code
            message = error.message
        case let error as ServerError:
            code = error.detail.code
            message = error.description
        case is RetryBudgetExhausted:
            code = .unreachable
            message = "\(error)"
        default:
            if let words = FileProblem.describe(error) {
                code = .commandFailed
                message = words.text
            } else {
                // The link's failures have words of their own; anything else is described as it is.
                message = describeFailure(error).text
                code = message == describe(error) ? .commandFailed : .unreachable
            }
        }
        // The message may quote the server or a record: its control characters are shown, not obeyed.
        message = TerminalText.escaped(message)
    }

    var description: String { message }
}

/// The `--replica` option every command shares.
struct ReplicaOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Words("The replica file (or HAVEN_REPLICA).", korean: "복제본 파일 (또는 HAVEN_REPLICA)."), valueName: "path"))
    var replica: String?

    var path: String {
        if let replica { return replica }
        if let fromEnvironment = ProcessInfo.processInfo.environment["HAVEN_REPLICA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".haven/replica.sqlite").path
    }

    @OptionGroup var passphrase: PassphraseOptions

    /// The one place commands open the replica: its passphrase is asked only when it is encrypted.
    func open() throws -> Replica {
        try Replica.open(at: path) { try passphrase.source().read(prompt: prompt) }
    }

    /// The encrypted replica's key file opened with its passphrase, for the commands that change it.
    func unlock() throws -> Replica.Unlocked {
        try Replica.unlock(at: path) { try passphrase.source().read(prompt: prompt) }
    }

    private var prompt: String { Words("Passphrase for \(path): ", korean: "\(path)의 암호문구: ").text }
}

/// Printing JSON for `--json`: sorted keys, so output is stable.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A time as ISO 8601 in UTC.
func isoTime(_ milliseconds: UInt64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
