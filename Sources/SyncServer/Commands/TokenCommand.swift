import ArgumentParser
import Foundation
import HavenCore

/// `haven-server token create|list|revoke`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke access tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret (shown once; only its hash is stored).")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "admin, editor, field or reader.") var role: Role
        @Option(help: "A name to recognise the token by (a pseudonym, never a legal name).") var name: String
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
                expiresAt: expires.map { now + $0.milliseconds }, revokedAt: nil)
            try await database.withStore { try await $0.addToken(token, hash: TokenSecret.hash(secret)) }
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

extension Role: ExpressibleByArgument {}

/// A lifetime written as a number and a unit: `30d`, `12h`, `90m`, `45s`, at most ``longest``.
///
/// A longer one (up to any number of digits) is read as ``longest`` and marked ``isTooLong``,
/// so that no count can overflow; each command refuses it by name in `validate()`, with
/// ``validate(option:)``.
struct Lifetime: ExpressibleByArgument {
    /// A hundred years, in milliseconds.
    static let longest: UInt64 = 36_500 * 86_400_000
    /// What the lifetime options accept, as their messages say it.
    static let range = "from 1s to 36500d (100 years)"

    let milliseconds: UInt64
    /// Whether the text asked for more than ``longest``.
    let isTooLong: Bool

    init?(argument: String) {
        guard let unit = argument.last else { return nil }
        let digits = argument.dropLast()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let seconds: UInt64? =
            switch unit {
            case "d": 86_400
            case "h": 3_600
            case "m": 60
            case "s": 1
            default: nil
            }
        guard let seconds else { return nil }
        // All digits: a count too large for UInt64 is too long as well.
        guard let count = UInt64(digits) else {
            (milliseconds, isTooLong) = (Self.longest, true)
            return
        }
        guard count > 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: seconds * 1000)
        isTooLong = overflow || product > Self.longest
        milliseconds = isTooLong ? Self.longest : product
    }

    /// Throws, naming `option` and the range, when the lifetime is longer than ``longest``.
    func validate(option: String) throws {
        if isTooLong { throw ValidationError("\(option) must be \(Self.range)") }
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func isoDate(_ milliseconds: UInt64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}
