import ArgumentParser
import Foundation
import HavenCore

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tokens = try await database.withStore { try await $0.tokens() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(tokens), as: UTF8.self))
                return
            }
            let now = HybridLogicalClock.systemWallClock()
            print("ID                NAME                  ROLE     STATE     EXPIRES")
            for token in tokens {
                let state = token.revokedAt != nil ? "revoked" : token.isValid(at: now) ? "active" : "expired"
                let expiry = token.expiresAt.map(isoDate) ?? "never"
                print("\(token.id)  \(pad(token.name, 20))  \(pad(token.role.rawValue, 7))  \(pad(state, 8))  \(expiry)")
            }
        }
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func isoDate(_ milliseconds: UInt64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
