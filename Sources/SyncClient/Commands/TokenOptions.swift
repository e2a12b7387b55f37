import ArgumentParser
import Foundation
import HavenCore

/// Where `haven init` and `haven login` read the token: `--token-file PATH`, `--token -`
/// (standard input), `--token TOKEN`, or, with none of them at a terminal, a prompt that does
/// not echo. The token is best kept off the command line: there it shows in `ps` to every user
/// of the machine and stays in the shell's history.
struct TokenOptions: ParsableArguments {
    @Option(help: "An access token from 'haven-server token create', or - to read it from standard input.")
    var token: String?
    @Option(help: ArgumentHelp("Read the access token from this file.", valueName: "path")) var tokenFile: String?

    static let discussion = """
        Give the token with --token-file PATH, or --token - to read it from standard input, or type it at \
        the prompt (not shown) when neither is given: --token TOKEN works too, but puts the token in ps \
        (seen by every user of this machine) and in the shell's history.
        """

    func validate() throws {
        switch (token, tokenFile) {
        case (.some, .some):
            throw ValidationError("give the token with either --token or --token-file, not both")
        case (nil, nil) where !Self.canPrompt:
            throw ValidationError(
                "a token is needed: --token-file PATH, or --token - to read it from standard input (both keep it out "
                    + "of ps and shell history), or --token TOKEN")
        case (let token?, nil) where token != "-":
            _ = try Self.checked(token, from: "--token")
        default:
            break
        }
    }

    /// The token from `--token`, its file, standard input or the prompt, without the line end around it.
    func read() throws -> String {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError(FileProblem.reading(tokenFile, purpose: "the token file"))
            }
            return try Self.checked(String(decoding: data, as: UTF8.self), from: "the token file \(tokenFile)")
        }
        if let token, token != "-" { return token }
        if token == nil {
            return try Self.checked(Self.prompt("Token (not shown): "), from: "the token typed")
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        return try Self.checked(String(decoding: input, as: UTF8.self), from: "standard input")
    }

    /// Whether a person can be asked: standard input is a terminal.
    private static var canPrompt: Bool { isatty(STDIN_FILENO) == 1 }

    /// A line typed at the terminal with echo turned off, so the token never shows on screen.
    private static func prompt(_ text: String) -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        let hasTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if hasTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        }
        defer {
            if hasTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }

    /// `text` trimmed, if it is one token; the error names `source`, never the text.
    static func checked(_ text: String, from source: String) throws -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw ValidationError("\(source) holds no token: give the one 'haven-server token create' printed")
        }
        guard !token.contains(where: \.isWhitespace) else {
            throw ValidationError("\(source) must be a token without spaces")
        }
        return token
    }
}
