/// The sizes the sync protocol keeps to, in one place: the server's defaults, and from them the
/// bound a client holds every answer to (DESIGN §7: a broken or hostile server must not exhaust
/// a device's memory). A server states the limits it enforces in `GET /v1/me` (``ServerLimits``).
public enum ProtocolLimits {
    /// Bytes of records a pull page stays under; the record that opens a page may take it past
    /// this whatever its size.
    public static let pageBytes = 1 << 20
    /// The largest encoded change a server takes by default.
    public static let recordBytes = 256 << 10
    /// The largest request body a server takes by default.
    public static let requestBytes = 8 << 20
    /// The most changes in one push a server takes by default.
    public static let batchChanges = 1_000
    /// The most records in one pull page a server sends by default.
    public static let pageRecords = 500
    /// The deepest nesting of arrays and objects in a request body a server takes by default.
    public static let nestingDepth = 32
    /// The most bytes a client reads of one answer, on the wire and again once inflated: eight
    /// times a full page opened by a largest record. A server with the default limits stays far
    /// inside it; the margin leaves room for conflicts, `removed` ids and a server configured
    /// with larger pages or records.
    public static let answerBytes = 8 * (pageBytes + recordBytes)
    /// The largest media file a server stores by default.
    public static let mediaFileBytes: Int64 = 64 << 20
    /// The most bytes of media one token may have uploaded, by default.
    public static let mediaQuotaBytes: Int64 = 2 << 30
    /// The most bytes one upload request appends; a client sends a file in pieces of at most this.
    public static let mediaPieceBytes = 1 << 20
}
