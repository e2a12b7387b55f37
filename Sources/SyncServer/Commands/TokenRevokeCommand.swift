import ArgumentParser
import Foundation
import HavenCore

extension TokenCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token at once, by id, or by name when only one token has that name.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id, or its name if no other token, revoked or not, has it.") var token: String

        func run() async throws {
            let outcome = try await database.withStore { store -> TokenRevocation in
                try await store.revokeToken(token, now: HybridLogicalClock.systemWallClock())
            }
            switch outcome {
            case .revoked(let info):
                print("revoked \(info.id) (\(info.name), \(info.role.rawValue))")
            case .alreadyRevoked(let info):
                throw CommandFailure("token \(info.id) (\(info.name)) was revoked already; nothing changed")
            case .notFound:
                throw CommandFailure("no token with id or name '\(token)': 'haven-server token list' shows them")
            case .ambiguous(let matches):
                let list = matches.map { "  \($0.id)  \($0.role.rawValue)  \($0.revokedAt == nil ? "active" : "revoked")" }
                throw CommandFailure(
                    (["\(matches.count) tokens are named '\(token)'; nothing revoked. Revoke one by its id:"] + list)
                        .joined(separator: "\n"))
            }
        }
    }
}
