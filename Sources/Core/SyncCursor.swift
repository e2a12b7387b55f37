/// A position in a server's change log. Clients treat it as opaque and send it back as they got it.
///
/// The cursor carries the store's epoch, a random id made when the server's database was
/// created, so that a cursor from a restored or replaced database is detected instead of
/// silently skipping changes. For example: `"5f1c0a9e3b7d2c41.1042"`.
public struct SyncCursor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The id of the store that issued the cursor.
    public let epoch: String
    /// The last log position the holder has seen (0 before the first change).
    public let seq: Int64

    public init(epoch: String, seq: Int64) {
        self.epoch = epoch
        self.seq = seq
    }

    /// Parses the string form, returning nil when it is not a cursor.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...32).contains(parts[0].count), parts[0].allSatisfy(\.isLowercaseHexDigit),
            let seq = Int64(parts[1]), seq >= 0, parts[1].allSatisfy(\.isNumber)
        else { return nil }
        self.init(epoch: String(parts[0]), seq: seq)
    }

    public var description: String { "\(epoch).\(seq)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cursor = SyncCursor(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a cursor from this server")
        }
        self = cursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
