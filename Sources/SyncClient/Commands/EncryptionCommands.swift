import ArgumentParser
import Crypto
import Foundation
import HavenCore

/// `haven encrypt`: encrypts a plaintext replica in place, under a new passphrase.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt", abstract: "Encrypt a plaintext replica in place, under a new passphrase.",
        discussion: """
            Unsent changes are kept. The key file is written first, then the replica is converted; \
            a conversion cut short is finished the next time the replica is opened with the passphrase.
            """)
    @OptionGroup var replica: ReplicaOptions

    func run() throws {
        let path = replica.path
        guard !Replica.hasKeyFile(at: path) else {
            throw ClientError(
                Words(
                    "the replica \(path) is already encrypted: 'haven passphrase change' changes its passphrase",
                    korean: "복제본(\(path))은 이미 암호화되어 있습니다: 암호문구는 'haven passphrase change'로 바꿉니다"))
        }
        _ = try Replica.open(at: path)  // a replica, not any file: refused here otherwise
        let passphrase = try replica.passphrase.source().readNew(
            prompt: Words("New passphrase for \(path): ", korean: "\(path)의 새 암호문구: ").text)
        let dataKey = SymmetricKey(size: .bits256)
        try ReplicaKeyFile.create(passphrase: passphrase, dataKey: dataKey).write(beside: path)
        try Replica.encryptInPlace(path: path, key: dataKey)
        print(
            Words(
                "encrypted the replica \(path): every command now asks for its passphrase",
                korean: "복제본(\(path))을 암호화했습니다: 이제 모든 명령이 암호문구를 묻습니다"))
    }
}

/// `haven passphrase change`.
struct PassphraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase", abstract: "Change the passphrase of an encrypted replica.",
        subcommands: [PassphraseChangeCommand.self])
}

struct PassphraseChangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change", abstract: "Wrap the replica's key under a new passphrase; no record is rewritten.")
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var new: NewPassphraseOptions

    func run() throws {
        var unlocked = try replica.unlock()
        try unlocked.changePassphrase(
            to: new.source().readNew(prompt: Words("New passphrase: ", korean: "새 암호문구: ").text))
        print(
            Words(
                "passphrase changed: the old one no longer opens \(replica.path)",
                korean: "암호문구를 바꿨습니다: 이전 암호문구로는 더 이상 복제본(\(replica.path))을 열 수 없습니다"))
    }
}

/// `haven duress set`.
struct DuressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duress", abstract: "Set a duress passphrase for an encrypted replica.",
        subcommands: [DuressSetCommand.self])
}

struct DuressSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set (or replace) the duress passphrase.",
        discussion: """
            Typed wherever the passphrase is asked, the duress passphrase destroys the replica as \
            'haven wipe' does, silently, and leaves an empty replica for the same server whose \
            passphrase it is. Nobody can tell from the files whether one is set.
            """)
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var new: NewPassphraseOptions

    func run() throws {
        var unlocked = try replica.unlock()
        try unlocked.setDuress(new.source().readNew(prompt: Words("Duress passphrase: ", korean: "비상 암호문구: ").text))
        print(
            Words(
                "duress passphrase set for \(replica.path)",
                korean: "비상 암호문구를 정했습니다: \(replica.path)"))
    }
}
