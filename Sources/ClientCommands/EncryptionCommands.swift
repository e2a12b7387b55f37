import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven encrypt`: encrypts a plaintext replica in place, under a new passphrase.
struct EncryptCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "encrypt",
            abstract: Words(
                "Encrypt a plaintext replica in place, under a new passphrase.",
                korean: "평문 복제본을 그 자리에서 새 암호문구로 암호화합니다.").text,
            discussion: Words(
                """
                Unsent changes are kept. The key file is written first, then the replica is converted; \
                a conversion cut short is finished the next time the replica is opened with the passphrase.
                """,
                korean: """
                보내지 않은 변경은 그대로 남습니다. 키 파일을 먼저 쓰고 그다음 복제본을 바꿉니다. \
                도중에 끊긴 변환은 다음에 암호문구로 복제본을 열 때 마저 끝납니다.
                """).text)
    }
    @OptionGroup var replica: ReplicaOptions

    func run() throws {
        let path = replica.path
        try Replica.encrypt(at: path) {
            try replica.passphrase.source().readNew(
                prompt: Words("New passphrase for \(path): ", korean: "\(path)의 새 암호문구: ").text)
        }
        print(
            Words(
                "encrypted the replica \(path): every command now asks for its passphrase",
                korean: "복제본(\(path))을 암호화했습니다: 이제 모든 명령이 암호문구를 묻습니다"))
    }
}

/// `haven passphrase change`.
struct PassphraseCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "passphrase",
            abstract: Words(
                "Change the passphrase of an encrypted replica.",
                korean: "암호화된 복제본의 암호문구를 바꿉니다.").text,
            subcommands: [PassphraseChangeCommand.self])
    }
}

struct PassphraseChangeCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "change",
            abstract: Words(
                "Wrap the replica's key under a new passphrase; no record is rewritten.",
                korean: "복제본의 키를 새 암호문구로 감쌉니다. 기록은 다시 쓰지 않습니다.").text)
    }
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
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "duress",
            abstract: Words(
                "Set a duress passphrase for an encrypted replica.",
                korean: "암호화된 복제본에 비상 암호문구를 정합니다.").text,
            subcommands: [DuressSetCommand.self])
    }
}

struct DuressSetCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "set",
            abstract: Words(
                "Set (or replace) the duress passphrase.",
                korean: "비상 암호문구를 정합니다 (있으면 바꿉니다).").text,
            discussion: Words(
                """
                Typed wherever the passphrase is asked, the duress passphrase destroys the replica as \
                'haven wipe' does, silently, and leaves an empty replica for the same server whose \
                passphrase it is. Nobody can tell from the files whether one is set.
                """,
                korean: """
                암호문구를 묻는 곳 어디서든 비상 암호문구를 입력하면 'haven wipe'처럼 복제본을 조용히 \
                파기하고, 같은 서버에 쓸 빈 복제본을 남깁니다. 그 빈 복제본의 암호문구가 비상 암호문구입니다. \
                파일만 보고는 비상 암호문구가 정해져 있는지 아무도 알 수 없습니다.
                """).text)
    }
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
