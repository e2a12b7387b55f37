import ArgumentParser
import Crypto
import Foundation

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
            throw ClientError("the replica \(path) is already encrypted: 'haven passphrase change' changes its passphrase")
        }
        _ = try Replica.open(at: path)  // a replica, not any file: refused here otherwise
        let passphrase = try replica.passphrase.source().readNew(prompt: "New passphrase for \(path): ")
        let dataKey = SymmetricKey(size: .bits256)
        try ReplicaKeyFile.create(passphrase: passphrase, dataKey: dataKey).write(beside: path)
        try Replica.encryptInPlace(path: path, key: dataKey)
        print("encrypted the replica \(path): every command now asks for its passphrase")
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
        try unlocked.changePassphrase(to: new.source().readNew(prompt: "New passphrase: "))
        print("passphrase changed: the old one no longer opens \(replica.path)")
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
        try unlocked.setDuress(new.source().readNew(prompt: "Duress passphrase: "))
        print("duress passphrase set for \(replica.path)")
    }
}
