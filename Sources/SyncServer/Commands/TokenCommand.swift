import ArgumentParser
import Foundation
import HavenCore

/// `haven-server token create|list|revoke`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke access tokens.",
        subcommands: [Create.self, List.self, Revoke.self])
}

extension Role: ExpressibleByArgument {}
