import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// Where `haven init` and `haven login` read the token: `--token-file PATH`, `--token -`
/// (standard input), `--token TOKEN`, or, with none of them at a terminal, a prompt that does
/// not echo. The token is best kept off the command line: there it shows in `ps` to every user
/// of the machine and stays in the shell's history.
struct TokenOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Words(
                "An access token from 'haven-server token create', or - to read it from standard input.",
                korean: "'haven-server token create'로 만든 접근 토큰. -를 주면 표준 입력에서 읽습니다.")))
    var token: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Read the access token from this file.",
                korean: "접근 토큰을 이 파일에서 읽습니다."), valueName: "path"))
    var tokenFile: String?

    /// How to give the token, for the `--help` of `init` and `login`.
    static var discussion: String {
        Words(
            """
            Give the token with --token-file PATH, or --token - to read it from standard input, or type it at \
            the prompt (not shown) when neither is given: --token TOKEN works too, but puts the token in ps \
            (seen by every user of this machine) and in the shell's history.
            """,
            korean: """
            토큰은 --token-file PATH로 주거나, --token -로 표준 입력에서 읽게 하거나, 둘 다 없으면 프롬프트에 \
            입력하세요 (화면에 보이지 않습니다). --token TOKEN도 되지만, 그러면 토큰이 ps에 (이 기기의 모든 \
            사용자에게) 보이고 셸 기록에 남습니다.
            """
        ).text
    }

    func validate() throws {
        switch (token, tokenFile) {
        case (.some, .some):
            throw ValidationError(
                Words(
                    "give the token with either --token or --token-file, not both",
                    korean: "토큰은 --token이나 --token-file 중 하나로만 주세요. 둘 다 줄 수는 없습니다").text)
        case (nil, nil) where !Self.canPrompt:
            throw ValidationError(
                Words(
                    "a token is needed: --token-file PATH, or --token - to read it from standard input (both keep it out "
                        + "of ps and shell history), or --token TOKEN",
                    korean: "토큰이 필요합니다: --token-file PATH, 또는 표준 입력에서 읽는 --token - (둘 다 토큰이 ps와 "
                        + "셸 기록에 남지 않습니다), 또는 --token TOKEN으로 주세요").text)
        case (let token?, nil) where token != "-":
            _ = try Self.checked(token, from: Words("--token", korean: "--token"))
        default:
            break
        }
    }

    /// The token from `--token`, its file, standard input or the prompt, without the line end around it.
    func read() throws -> String {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError(FileProblem.reading(tokenFile, purpose: .tokenFile).text)
            }
            return try Self.checked(
                String(decoding: data, as: UTF8.self),
                from: Words("the token file \(tokenFile)", korean: "토큰 파일(\(tokenFile))"))
        }
        if let token, token != "-" { return token }
        if token == nil {
            let prompt = Words("Token (not shown): ", korean: "토큰 (화면에 보이지 않습니다): ").text
            return try Self.checked(Self.prompt(prompt), from: Words("the token typed", korean: "입력한 토큰"))
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        return try Self.checked(String(decoding: input, as: UTF8.self), from: Words("standard input", korean: "표준 입력"))
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
    ///
    /// - Parameter source: where the text came from, such as "standard input".
    static func checked(_ text: String, from source: Words) throws -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw ValidationError(
                Words(
                    "\(source.english) holds no token: give the one 'haven-server token create' printed",
                    korean: "\(source.korean)에 토큰이 없습니다: 'haven-server token create'가 출력한 토큰을 주세요").text)
        }
        guard !token.contains(where: \.isWhitespace) else {
            throw ValidationError(
                Words(
                    "\(source.english) must be a token without spaces",
                    korean: "\(source.korean): 공백 없는 토큰 하나여야 합니다").text)
        }
        return token
    }
}
