import ArgumentParser
import Foundation
import HavenCore

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secrets), with when each was last used (to within a minute).")
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
            print("ID                NAME                  ROLE     STATE     LAST USED         EXPIRES")
            for token in tokens {
                let state = token.revokedAt != nil ? "revoked" : token.isValid(at: now) ? "active" : "expired"
                let expiry = token.expiresAt.map(isoDate) ?? "never"
                let lastUse = TimeAgo.describe(token.lastUsedAt, now: now)
                print(
                    "\(token.id)  \(pad(token.name, 20))  \(pad(token.role.rawValue, 7))  \(pad(state, 8))  \(pad(lastUse, 16))  \(expiry)"
                )
            }
        }
    }
}

/// How long ago something happened, in the words a person would use: "never", "just now",
/// "3 minutes ago", "2 days ago".
package enum TimeAgo {
    /// - Parameters: `then` and `now` in milliseconds since 1970; nil `then` is "never".
    package static func describe(_ then: UInt64?, now: UInt64) -> String {
        guard let then else { return "never" }
        let seconds = now > then ? (now - then) / 1000 : 0
        for (unit, size) in [("day", 86_400), ("hour", 3_600), ("minute", 60)] as [(String, UInt64)]
        where seconds >= size {
            let count = seconds / size
            return "\(count) \(unit)\(count == 1 ? "" : "s") ago"
        }
        return "just now"
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func isoDate(_ milliseconds: UInt64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
