import ArgumentParser
import Foundation
import HavenCore

extension TokenCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret (shown once; only its hash is stored).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "admin, editor, field or reader.") var role: Role
        @Option(help: "A name to recognise the token by (a pseudonym, never a legal name), unique among unrevoked tokens.")
        var name: String
        @Option(help: "Lifetime such as 30d, 12h or 90m; never expires when omitted.") var expires: Lifetime?
        @Flag(help: "Print {\"id\",\"token\",\"role\"} as JSON.") var json = false

        func validate() throws {
            try expires?.validate(option: "--expires")
            guard (1...100).contains(name.count), !name.contains(where: \.isNewline) else {
                throw ValidationError("--name must have 1 to 100 characters on one line")
            }
        }

        func run() async throws {
            let now = HybridLogicalClock.systemWallClock()
            let secret = TokenSecret.generate()
            let token = TokenInfo(
                id: TokenSecret.generateID(), name: name, role: role, createdAt: now,
                expiresAt: expires.map { expiry(after: $0.milliseconds, from: now) }, revokedAt: nil)
            do {
                try await database.withStore { try await $0.addToken(token, hash: TokenSecret.hash(secret)) }
            } catch let taken as TokenNameTaken {
                throw CommandFailure("--name: \(taken)")
            }
            if json {
                let body = ["id": token.id, "token": secret, "role": role.rawValue]
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(body), as: UTF8.self))
            } else {
                print(secret)
            }
        }
    }
}
