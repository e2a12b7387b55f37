/// Everything `haven-server serve` can be told, with defaults for a single machine.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Largest number of changes in one push.
    public var maxBatchSize: Int
    /// Records per pull page, unless the client asks for fewer.
    public var pageLimit: Int
    /// Approximate bytes per pull page.
    public var pageBytes: Int
    /// How far ahead of the server's clock a stamp may be, in milliseconds.
    public var maxDrift: UInt64

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20, maxBatchSize: Int = 1_000,
        pageLimit: Int = 500, pageBytes: Int = 1 << 20, maxDrift: UInt64 = 10 * 60 * 1000
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchSize = maxBatchSize
        self.pageLimit = pageLimit
        self.pageBytes = pageBytes
        self.maxDrift = maxDrift
    }
}
