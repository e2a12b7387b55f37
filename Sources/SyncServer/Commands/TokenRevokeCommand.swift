import ArgumentParser
import Foundation
import HavenCore

extension TokenCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once, by id or name.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id or name.") var token: String

        func run() async throws {
            let revoked = try await database.withStore {
                try await $0.revokeToken(token, now: HybridLogicalClock.systemWallClock())
            }
            guard revoked else {
                throw ValidationError("no active token with id or name '\(token)'")
            }
            print("revoked \(token)")
        }
    }
}
