import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven pin`: the https:// server key this replica trusts.
struct PinCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "pin",
            abstract: Words(
                "Show or replace the server key this replica trusts.",
                korean: "이 복제본이 믿는 서버 키를 보여 주거나 바꿉니다.").text,
            subcommands: [PinShowCommand.self, PinUpdateCommand.self], defaultSubcommand: PinShowCommand.self)
    }
}

/// `haven pin show`.
struct PinShowCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "show",
            abstract: Words("Print the pinned server key.", korean: "고정된 서버 키를 출력합니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions

    func run() throws {
        let settings = try replica.open().settings()
        let server = settings.server
        print(
            settings.pin.map(\.description)
                ?? Words(
                    "no pinned key: the server \(server) is not https://",
                    korean: "고정된 키가 없습니다: 서버(\(server))가 https://가 아닙니다"
                ).text)
    }
}

/// `haven pin update`: fetches the server's key now and pins it, once a person (or `--yes`) confirms.
struct PinUpdateCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "update",
            abstract: Words(
                "Pin the key the server shows now, after confirmation.",
                korean: "확인을 받은 뒤, 서버가 지금 보이는 키를 고정합니다.").text,
            discussion: Words(
                "Only after the server's admin confirmed the new key: a changed key is also what an attacker on the link shows.",
                korean: "서버 관리자가 새 키를 확인해 준 뒤에만 쓰세요: 연결 중간의 공격자도 바뀐 키를 보입니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @Flag(
        help: ArgumentHelp(
            Words(
                "Replace the pin without asking (for scripts).",
                korean: "묻지 않고 고정된 키를 바꿉니다 (스크립트용).")))
    var yes = false

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
