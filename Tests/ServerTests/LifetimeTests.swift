import ArgumentParser
import Testing

@testable import HavenServer

/// Durations typed at `haven-server` (`--expires`, `--retention`, `--compact-every`,
/// `--shutdown-grace`): read in any unit, refused by name past a hundred years, never a trap.
struct LifetimeTests {
    @Test(
        arguments: [("30d", 2_592_000_000), ("12h", 43_200_000), ("90m", 5_400_000), ("45s", 45_000)]
            as [(String, UInt64)])
    func readsEachUnit(text: String, milliseconds: UInt64) throws {
        let lifetime = try #require(Lifetime(argument: text))

        #expect(lifetime.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "d", "0d", "-1d", "30w", "1.5h", "abc"])
    func refusesWhatIsNotALifetime(text: String) {
        #expect(Lifetime(argument: text) == nil)
    }

    @Test func aHundredYearsIsTheLongest() throws {
        #expect(try #require(Lifetime(argument: "36500d")).isTooLong == false)
        #expect(try #require(Lifetime(argument: "36501d")).isTooLong)
    }

    /// Commands given a lifetime past the longest, with the option the message must name.
    static let tooLong: [([String], String)] = [
        (["token", "create", "--role", "admin", "--name", "ops", "--expires", "999999999999999d"], "--expires"),
        (["token", "create", "--role", "admin", "--name", "ops", "--expires", "9999999999999999999999s"], "--expires"),
        (["serve", "--retention", "999999999999999d"], "--retention"),
        (["serve", "--compact-every", "18446744073709551615h"], "--compact-every"),
        (["serve", "--shutdown-grace", "9999999999999m"], "--shutdown-grace"),
        (["compact", "--retention", "999999999999999d"], "--retention"),
    ]

    @Test(arguments: tooLong)
    func lifetimesPastAHundredYearsAreRefusedByName(arguments: [String], option: String) {
        // When a command is given a lifetime too long to count in milliseconds
        let error = #expect(throws: (any Error).self) { try HavenServerCommand.parseAsRoot(arguments) }

        // Then the message names the option and the range, and nothing trapped
        let message = error.map { HavenServerCommand.message(for: $0) } ?? ""
        #expect(message == "\(option) must be from 1s to 36500d (100 years)", "\(message)")
    }
}
