import ArgumentParser
import Foundation

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
        case (.some, .some): throw ValidationError("give a passphrase either from a file or from a descriptor, not both")
        case (let file?, nil): return .file(file)
        case (nil, let descriptor?): return .descriptor(descriptor)
        case (nil, nil):
            if let environmentFile, !environmentFile.isEmpty { return .file(environmentFile) }
            guard isatty(STDIN_FILENO) == 1 else {
                throw ClientError(
                    "a passphrase is needed and there is no terminal to ask it on: give it with \(options) "
                        + "(never on the command line)")
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
                throw ClientError("cannot read the passphrase file \(path): check its path and permissions")
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
            throw ClientError("an empty passphrase protects nothing: choose one; nothing was changed")
        }
        if case .terminal = self, !(try Self.readHidden(prompt: "Type it again: ")).matches(passphrase) {
            throw ClientError("the two passphrases typed differ: nothing was changed; try again")
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
                throw ClientError("cannot read a passphrase from descriptor \(descriptor): \(String(cString: strerror(errno)))")
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
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { throw ClientError("cannot turn off the terminal's echo") }
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
    @Option(help: ArgumentHelp("Read the replica's passphrase from this file (or HAVEN_PASSPHRASE_FILE).", valueName: "path"))
    var passphraseFile: String?
    @Option(help: ArgumentHelp("Read the replica's passphrase from this open file descriptor.", valueName: "n"))
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
    @Option(help: ArgumentHelp("Read the new passphrase from this file.", valueName: "path"))
    var newPassphraseFile: String?
    @Option(help: ArgumentHelp("Read the new passphrase from this open file descriptor.", valueName: "n"))
    var newPassphraseFd: Int32?

    func source() throws -> PassphraseSource {
        try PassphraseSource.choose(
            file: newPassphraseFile, descriptor: newPassphraseFd, environmentFile: nil,
            options: "--new-passphrase-file FILE or --new-passphrase-fd N")
    }
}
