/// The sizes the sync protocol keeps to, in one place: the server's defaults, and from them the
/// bound a client holds every answer to (DESIGN §7: a broken or hostile server must not exhaust
/// a device's memory).
public enum ProtocolLimits {
    /// Bytes of records a pull page stays under; the record that opens a page may take it past
    /// this whatever its size.
    public static let pageBytes = 1 << 20
    /// The largest encoded change a server takes by default.
    public static let recordBytes = 256 << 10
    /// The most bytes a client reads of one answer, on the wire and again once inflated: eight
    /// times a full page opened by a largest record. A server with the default limits stays far
    /// inside it; the margin leaves room for conflicts, `removed` ids and a server configured
    /// with larger pages or records.
    public static let answerBytes = 8 * (pageBytes + recordBytes)
}
