import ArgumentParser
import Foundation
import HavenClient
import HavenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a passphrase comes from: a file, an open file descriptor, or a terminal that does not
/// echo it. Never the command line, which `ps` shows to every user and the shell keeps.
enum PassphraseSource {
    case file(String)
    case descriptor(Int32)
    case terminal

    /// The source the options name, else `environmentFile`, else the terminal when standard
    /// input is one.
    ///
    /// - Throws: `ValidationError` when both options are given or there is no source at all.
    static func choose(file: String?, descriptor: Int32?, environmentFile: String?, options: String) throws -> Self {
        switch (file, descriptor) {
        case (.some, .some):
            throw ValidationError(
                Words(
                    "give a passphrase either from a file or from a descriptor, not both",
                    korean: "암호문구는 파일이나 디스크립터 중 하나로만 주세요. 둘 다 줄 수는 없습니다"
                ).text)
        case (let file?, nil): return .file(file)
        case (nil, let descriptor?): return .descriptor(descriptor)
        case (nil, nil):
            if let environmentFile, !environmentFile.isEmpty { return .file(environmentFile) }
            guard isatty(STDIN_FILENO) == 1 else {
                throw ClientError(
                    Words(
                        "a passphrase is needed and there is no terminal to ask it on: give it with \(options) "
                            + "(never on the command line)",
                        korean: "암호문구가 필요한데 물어볼 터미널이 없습니다: 다음 중 하나로 주세요: \(options) "
                            + "(명령줄에는 절대 쓰지 마세요)"))
            }
            return .terminal
        }
    }

    /// Reads the passphrase of an existing replica.
    func read(prompt: String) throws -> Passphrase {
        switch self {
        case .file(let path):
            // Read as a stream: a pipe (--passphrase-file <(…)) or /dev/null works as a file does.
            guard let data = FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() else {
                throw ClientError(
                    Words(
                        "cannot read the passphrase file \(path): check its path and permissions",
                        korean: "암호문구 파일(\(path))을 읽을 수 없습니다: 경로와 권한을 확인하세요"))
            }
            return Passphrase(reading: data)
        case .descriptor(let descriptor): return try Self.readAll(descriptor)
        case .terminal: return try Self.readHidden(prompt: prompt)
        }
    }

    /// Reads a passphrase being chosen: a terminal asks it twice; an empty one is refused.
    func readNew(prompt: String) throws -> Passphrase {
        let passphrase = try read(prompt: prompt)
        guard !passphrase.isEmpty else {
            throw ClientError(
                Words(
                    "an empty passphrase protects nothing: choose one; nothing was changed",
                    korean: "빈 암호문구로는 아무것도 지킬 수 없습니다: 암호문구를 정하세요. 아무것도 바꾸지 않았습니다"))
        }
        let again = Words("Type it again: ", korean: "한 번 더 입력하세요: ").text
        if case .terminal = self, !(try Self.readHidden(prompt: again)).matches(passphrase) {
            throw ClientError(
                Words(
                    "the two passphrases typed differ: nothing was changed; try again",
                    korean: "두 번 입력한 암호문구가 다릅니다: 아무것도 바꾸지 않았습니다. 다시 해 보세요"))
        }
        return passphrase
    }

    private static func readAll(_ descriptor: Int32) throws -> Passphrase {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4_096)
        defer { buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count == 0 { break }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                throw ClientError(
                    Words(
                        "cannot read a passphrase from descriptor \(descriptor): \(reason)",
                        korean: "디스크립터 \(descriptor)에서 암호문구를 읽을 수 없습니다: \(reason)"))
            }
            data.append(contentsOf: buffer[0..<count])
        }
        defer { data.resetBytes(in: 0..<data.count) }
        return Passphrase(reading: data)
    }

    /// One line from the terminal on standard input, with echo off; the prompt goes to standard error.
    private static func readHidden(prompt: String) throws -> Passphrase {
        FileHandle.standardError.write(Data(prompt.utf8))
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else {
            throw ClientError(
                Words("cannot turn off the terminal's echo", korean: "터미널에 입력이 보이지 않게 할 수 없습니다"))
        }
        var hidden = original
        hidden.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &hidden)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(STDIN_FILENO, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        let passphrase = Passphrase(bytes)
        bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return passphrase
    }
}

/// The replica's passphrase options, shared by every command through ``ReplicaOptions``.
struct PassphraseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Words(
                "Read the replica's passphrase from this file (or HAVEN_PASSPHRASE_FILE).",
                korean: "복제본의 암호문구를 이 파일에서 읽습니다 (또는 HAVEN_PASSPHRASE_FILE)."),
            valueName: "path"))
    var passphraseFile: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Read the replica's passphrase from this open file descriptor.",
                korean: "복제본의 암호문구를 열려 있는 이 파일 디스크립터에서 읽습니다."),
            valueName: "n"))
    var passphraseFd: Int32?

    func source() throws -> PassphraseSource {
        try PassphraseSource.choose(
            file: passphraseFile, descriptor: passphraseFd,
            environmentFile: ProcessInfo.processInfo.environment["HAVEN_PASSPHRASE_FILE"],
            options: "--passphrase-file FILE, HAVEN_PASSPHRASE_FILE=FILE or --passphrase-fd N")
    }
}

/// The options of a passphrase being chosen beside the replica's own (`passphrase change`, `duress set`).
struct NewPassphraseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Words("Read the new passphrase from this file.", korean: "새 암호문구를 이 파일에서 읽습니다."), valueName: "path"))
    var newPassphraseFile: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Read the new passphrase from this open file descriptor.",
                korean: "새 암호문구를 열려 있는 이 파일 디스크립터에서 읽습니다."),
            valueName: "n"))
    var newPassphraseFd: Int32?

    func source() throws -> PassphraseSource {
        try PassphraseSource.choose(
            file: newPassphraseFile, descriptor: newPassphraseFd, environmentFile: nil,
            options: "--new-passphrase-file FILE or --new-passphrase-fd N")
    }
}
