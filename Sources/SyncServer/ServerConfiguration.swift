import HavenCore
import NIOSSL

/// Everything `haven-server serve` can be told, with defaults for a single machine.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (`--host`).
    public var host: String
    /// The port to listen on (`--port`); 0 for any free one.
    public var port: Int
    /// The certificate and key to serve HTTPS with; nil for plain HTTP (behind a TLS reverse proxy,
    /// or on loopback).
    public var tls: TLSConfiguration?
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
    /// Largest encoded size of one pushed change, in bytes; a larger change alone is rejected
    /// with `record_too_large`.
    public var maxRecordBytes: Int = ProtocolLimits.recordBytes
    /// How deeply arrays and objects may nest in a request body; deeper is 400 `too_deep`.
    public var maxNestingDepth: Int = ProtocolLimits.nestingDepth
    /// Failed authentications from one client address that block it with 429; 0 turns the
    /// throttle off.
    public var failedAuthLimit: Int = 10
    /// The window those failures are counted in, and how long a block lasts, in milliseconds.
    public var failedAuthWindow: UInt64 = 60_000
    /// A header a trusted reverse proxy sets to the client's address (e.g. `X-Forwarded-For`);
    /// nil to use the socket's peer. Set it only behind such a proxy: clients can send it too.
    public var clientAddressHeader: String?
    /// The longest long-poll a pull may ask for with `wait`, in seconds.
    public var maxWait: Double = 60
    /// How long a connection may stay open with no request under way: between requests, or
    /// with a head or body that stopped coming.
    ///
    /// None of the three timeouts runs while a request is being answered, so a long-poll waits
    /// its whole `wait` whatever they are.
    public var idleTimeout: Duration = .seconds(75)
    /// How long a request head may take to arrive whole, from its first byte: a head is a few
    /// hundred bytes, so a client that takes longer is stalling.
    public var headerTimeout: Duration = .seconds(30)
    /// How long a request body may take to arrive whole, from the end of its head: time for a
    /// large push over a slow link.
    public var bodyTimeout: Duration = .seconds(300)
    /// How many people publishing needs: by default two (an editor or admin other than the last
    /// editor approves); `single` lets editors and admins sign off their own work.
    public var review: ReviewPolicy = .two
    /// Whether the editors' console is served at `/console` (`serve --no-console` turns it off).
    public var console = true
    /// The largest media file stored, in bytes; a larger one is refused `media_too_large`.
    public var mediaFileBytes: Int64 = ProtocolLimits.mediaFileBytes
    /// The most bytes of media one token may have uploaded (its quota).
    public var mediaQuotaBytes: Int64 = ProtocolLimits.mediaQuotaBytes

    /// A configuration with the defaults of ``ProtocolLimits`` unless given.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = ProtocolLimits.requestBytes,
        maxBatchSize: Int = ProtocolLimits.batchChanges, pageLimit: Int = ProtocolLimits.pageRecords, pageBytes: Int = ProtocolLimits.pageBytes, maxDrift: UInt64 = 10 * 60 * 1000
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchSize = maxBatchSize
        self.pageLimit = pageLimit
        self.pageBytes = pageBytes
        self.maxDrift = maxDrift
    }

    /// The limits this configuration enforces, as `GET /v1/me` states them.
    public var limits: ServerLimits {
        ServerLimits(
            recordBytes: maxRecordBytes, requestBytes: maxBodyBytes, batchChanges: maxBatchSize,
            pageRecords: pageLimit, nestingDepth: maxNestingDepth)
    }
}
