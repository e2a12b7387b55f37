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
        if key == settings.pin { return print("the server's key is still the pinned \(key): nothing changed") }
        print("pinned key:        \(settings.pin?.description ?? "none")")
        print("server's key now:  \(key)")
        if !yes {
            print("Pin the new key? Only if the server's admin confirmed it. Type yes: ", terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                print("kept the old pin")
                throw ExitCode.failure
            }
        }
        try replica.setPin(key)
        print("pinned \(key); run 'haven sync' next")
    }
}
