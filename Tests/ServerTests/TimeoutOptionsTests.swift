import ArgumentParser
import Testing

@testable import HavenServer

struct TimeoutOptionsTests {
    @Test func flagsReachTheConfiguration() throws {
        var configuration = ServerConfiguration()
        try TimeoutOptions.parse(["--idle-timeout", "2m", "--header-timeout", "10s", "--body-timeout", "1h"])
            .apply(to: &configuration)

        #expect(configuration.idleTimeout == .seconds(120))
        #expect(configuration.headerTimeout == .seconds(10))
        #expect(configuration.bodyTimeout == .seconds(3_600))
    }

    @Test func withoutFlagsTheDefaultsStand() throws {
        var configuration = ServerConfiguration()
        try TimeoutOptions.parse([]).apply(to: &configuration)

        #expect(configuration.idleTimeout == .seconds(75))
        #expect(configuration.headerTimeout == .seconds(30))
        #expect(configuration.bodyTimeout == .seconds(300))
        // The idle timeout outlasts the longest long-poll, though it does not run during one
        #expect(configuration.idleTimeout > .seconds(configuration.maxWait))
    }

    @Test(arguments: ["0s", "soon", "5"])
    func aTimeoutThatIsNotADurationIsRefused(_ value: String) {
        #expect(throws: (any Error).self) { try TimeoutOptions.parse(["--idle-timeout", value]) }
    }
}
