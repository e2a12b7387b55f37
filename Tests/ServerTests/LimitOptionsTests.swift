import ArgumentParser
import Testing

@testable import HavenServer

struct LimitOptionsTests {
    @Test func flagsReachTheConfiguration() throws {
        // Given every limit flag
        let options = try LimitOptions.parse([
            "--max-body-bytes", "1000", "--max-batch-size", "5", "--max-record-bytes", "500", "--max-nesting-depth",
            "16",
            "--failed-auth-limit", "3", "--failed-auth-window", "120", "--client-address-header", "X-Forwarded-For",
        ])

        // When applied to a configuration
        var configuration = ServerConfiguration()
        options.apply(to: &configuration)

        // Then each one is there, the window in milliseconds
        #expect(configuration.maxBodyBytes == 1_000)
        #expect(configuration.maxBatchSize == 5)
        #expect(configuration.maxRecordBytes == 500)
        #expect(configuration.maxNestingDepth == 16)
        #expect(configuration.failedAuthLimit == 3)
        #expect(configuration.failedAuthWindow == 120_000)
        #expect(configuration.clientAddressHeader == "X-Forwarded-For")
    }

    @Test func withoutFlagsTheDefaultsStand() throws {
        var configuration = ServerConfiguration()
        try LimitOptions.parse([]).apply(to: &configuration)

        #expect(configuration.maxBodyBytes == 8 << 20)
        #expect(configuration.maxRecordBytes == 256 << 10)
        #expect(configuration.maxNestingDepth == 32)
        #expect(configuration.failedAuthLimit == 10)
        #expect(configuration.failedAuthWindow == 60_000)
        #expect(configuration.clientAddressHeader == nil)
    }

    /// Flags that must be refused, with the words of the message.
    static let invalid: [([String], String)] = [
        (["--max-body-bytes", "0"], "--max-body-bytes must be at least 1"),
        (["--max-batch-size=-1"], "--max-batch-size must be at least 1"),
        (["--max-record-bytes", "0"], "--max-record-bytes must be at least 1"),
        (["--max-nesting-depth", "4"], "--max-nesting-depth must be from 8 to 512"),
        (["--max-nesting-depth", "10000"], "--max-nesting-depth must be from 8 to 512"),
        (["--failed-auth-limit=-3"], "--failed-auth-limit must be 0 or more"),
        (["--failed-auth-window", "0"], "--failed-auth-window must be from 1 to 86400 seconds"),
        (["--client-address-header", "X Forwarded"], "--client-address-header: 'X Forwarded' is not a header name"),
    ]

    @Test(arguments: invalid)
    func badValuesAreRefused(_ arguments: [String], _ message: String) {
        #expect {
            _ = try LimitOptions.parse(arguments)
        } throws: { error in
            LimitOptions.message(for: error) == message
        }
    }
}
