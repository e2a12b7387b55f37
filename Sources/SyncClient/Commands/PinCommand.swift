import ArgumentParser
import Foundation
import HavenCore

/// `haven pin`: the https:// server key this replica trusts.
struct PinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin", abstract: "Show or replace the server key this replica trusts.",
        subcommands: [PinShowCommand.self, PinUpdateCommand.self], defaultSubcommand: PinShowCommand.self)
}

/// `haven pin show`.
struct PinShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the pinned server key.")
    @OptionGroup var replica: ReplicaOptions

    func run() throws {
        let settings = try replica.open().settings()
        print(settings.pin.map(\.description) ?? "no pinned key: the server \(settings.server) is not https://")
    }
}

/// `haven pin update`: fetches the server's key now and pins it, once a person (or `--yes`) confirms.
struct PinUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Pin the key the server shows now, after confirmation.",
        discussion: "Only after the server's admin confirmed the new key: a changed key is also what an attacker on the link shows.")
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: "Replace the pin without asking (for scripts).") var yes = false

    func run() async throws {
        let replica = try replica.open()
        let settings = try replica.settings()
        guard settings.server.scheme == "https" else {
            throw ClientError(
                Words(
                    "only an https:// server has a key to pin; this replica's server is \(settings.server)",
                    korean: "고정할 키는 https:// 서버에만 있습니다. 이 복제본의 서버는 \(settings.server)입니다"))
        }
        let key = try await PinnedTransport.fetchKey(of: settings.server)
        if key == settings.pin {
            return print(
                Words(
                    "the server's key is still the pinned \(key): nothing changed",
                    korean: "서버의 키는 여전히 고정된 키입니다 (\(key)): 아무것도 바꾸지 않았습니다"))
        }
        let pinned = settings.pin?.description
        print(Words("pinned key:        \(pinned ?? "none")", korean: "고정된 키:    \(pinned ?? "없음")"))
        print(Words("server's key now:  \(key)", korean: "지금 서버 키:  \(key)"))
        if !yes {
            print(
                Words(
                    "Pin the new key? Only if the server's admin confirmed it. Type yes: ",
                    korean: "새 키를 고정할까요? 서버 관리자가 확인해 준 경우에만 하세요. 그렇게 하려면 yes를 입력하세요: "),
                terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print(Words("kept the old pin", korean: "이전 키를 그대로 두었습니다"))
                throw ExitCode.failure
            }
        }
        try replica.setPin(key)
        print(
            Words(
                "pinned \(key); run 'haven sync' next",
                korean: "새 키를 고정했습니다 (\(key)). 다음으로 'haven sync'를 실행하세요"))
    }
}
