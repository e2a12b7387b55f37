import ArgumentParser
import HTTPTypes
import HavenCore

/// The request limits and the failed-token throttle of `haven-server serve`, each also read from
/// the environment variable named in its help.
struct LimitOptions: ParsableArguments {
    private static let defaults = ServerConfiguration()

    @Option(help: "Largest request body, in bytes (HAVEN_MAX_BODY_BYTES).")
    var maxBodyBytes: Int = LimitOptions.number("HAVEN_MAX_BODY_BYTES") ?? LimitOptions.defaults.maxBodyBytes
    @Option(help: "Most changes in one push (HAVEN_MAX_BATCH_SIZE).")
    var maxBatchSize: Int = LimitOptions.number("HAVEN_MAX_BATCH_SIZE") ?? LimitOptions.defaults.maxBatchSize
    @Option(help: "Largest change, in encoded bytes; a larger one is rejected alone (HAVEN_MAX_RECORD_BYTES).")
    var maxRecordBytes: Int = LimitOptions.number("HAVEN_MAX_RECORD_BYTES") ?? LimitOptions.defaults.maxRecordBytes
    @Option(help: "Deepest nesting of arrays and objects in a request body (HAVEN_MAX_NESTING_DEPTH).")
    var maxNestingDepth: Int = LimitOptions.number("HAVEN_MAX_NESTING_DEPTH") ?? LimitOptions.defaults.maxNestingDepth
    @Option(help: "Largest media file, in bytes (HAVEN_MAX_MEDIA_BYTES).")
    var maxMediaBytes: Int =
        LimitOptions.number("HAVEN_MAX_MEDIA_BYTES") ?? Int(LimitOptions.defaults.mediaFileBytes)
    @Option(help: "Most bytes of media one token may upload (HAVEN_MEDIA_QUOTA_BYTES).")
    var mediaQuotaBytes: Int =
        LimitOptions.number("HAVEN_MEDIA_QUOTA_BYTES") ?? Int(LimitOptions.defaults.mediaQuotaBytes)
    @Option(
        help: "Failed authentications that block an address for a window; 0 turns this off (HAVEN_FAILED_AUTH_LIMIT).")
    var failedAuthLimit: Int = LimitOptions.number("HAVEN_FAILED_AUTH_LIMIT") ?? LimitOptions.defaults.failedAuthLimit
    @Option(
        help:
            "Seconds over which failed authentications are counted, and that a block lasts (HAVEN_FAILED_AUTH_WINDOW).")
    var failedAuthWindow: Int =
        LimitOptions.number("HAVEN_FAILED_AUTH_WINDOW") ?? Int(LimitOptions.defaults.failedAuthWindow / 1000)
    @Option(
        help: """
            Header in which a trusted reverse proxy puts the client's address, e.g. X-Forwarded-For; only behind \
            such a proxy (HAVEN_CLIENT_ADDRESS_HEADER).
            """)
    var clientAddressHeader: String?

    /// The flag, or else its environment variable.
    private var addressHeader: String? {
        clientAddressHeader ?? ProcessEnvironment.value("HAVEN_CLIENT_ADDRESS_HEADER")
    }

    /// The variables read as numbers, for `validate()`.
    private static let numericVariables = [
        "HAVEN_MAX_BODY_BYTES", "HAVEN_MAX_BATCH_SIZE", "HAVEN_MAX_RECORD_BYTES", "HAVEN_MAX_NESTING_DEPTH",
        "HAVEN_FAILED_AUTH_LIMIT", "HAVEN_FAILED_AUTH_WINDOW", "HAVEN_MAX_MEDIA_BYTES", "HAVEN_MEDIA_QUOTA_BYTES",
    ]

    func validate() throws {
        for name in Self.numericVariables {
            if let text = ProcessEnvironment.value(name), Int(text) == nil {
                throw ValidationError("\(name) must be a whole number (is '\(text.prefix(40))')")
            }
        }
        guard maxBodyBytes >= 1 else { throw ValidationError("--max-body-bytes must be at least 1") }
        guard maxBatchSize >= 1 else { throw ValidationError("--max-batch-size must be at least 1") }
        guard maxRecordBytes >= 1 else { throw ValidationError("--max-record-bytes must be at least 1") }
        guard (1...Int(MediaReference.maxSize)).contains(maxMediaBytes) else {
            throw ValidationError("--max-media-bytes must be from 1 to \(MediaReference.maxSize)")
        }
        guard mediaQuotaBytes >= 0 else { throw ValidationError("--media-quota-bytes must be 0 or more") }
        // A push of one register already nests 6 deep; the decoder itself stops at 512.
        guard (8...512).contains(maxNestingDepth) else {
            throw ValidationError("--max-nesting-depth must be from 8 to 512")
        }
        guard failedAuthLimit >= 0 else { throw ValidationError("--failed-auth-limit must be 0 or more") }
        guard (1...86_400).contains(failedAuthWindow) else {
            throw ValidationError("--failed-auth-window must be from 1 to 86400 seconds")
        }
        if let addressHeader, HTTPField.Name(addressHeader) == nil {
            throw ValidationError("--client-address-header: '\(addressHeader.prefix(40))' is not a header name")
        }
    }

    /// Copies the options into `configuration`.
    func apply(to configuration: inout ServerConfiguration) {
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxBatchSize = maxBatchSize
        configuration.maxRecordBytes = maxRecordBytes
        configuration.maxNestingDepth = maxNestingDepth
        configuration.mediaFileBytes = Int64(maxMediaBytes)
        configuration.mediaQuotaBytes = Int64(mediaQuotaBytes)
        configuration.failedAuthLimit = failedAuthLimit
        configuration.failedAuthWindow = UInt64(failedAuthWindow) * 1000
        configuration.clientAddressHeader = addressHeader
    }

    private static func number(_ name: String) -> Int? {
        ProcessEnvironment.value(name).flatMap { Int($0) }
    }
}
