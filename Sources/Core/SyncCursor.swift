/// A position in a server's change log. Clients treat it as opaque and send it back as they got it.
///
/// The cursor carries the store's epoch, a random id made when the server's database was
/// created, so that a cursor from a restored or replaced database is detected instead of
/// silently skipping changes. For example: `"5f1c0a9e3b7d2c41.1042"`.
///
/// In the middle of a paged pull the cursor also carries the paging position
/// (`"5f1c0a9e3b7d2c41.1042.1500"`): records up to position 1500 have been sent, each with
/// every register changed after 1042; the rest still follow with the same base.
public struct SyncCursor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The id of the store that issued the cursor.
    public let epoch: String
    /// The log position up to which the holder has seen every change (0 before the first).
    public let seq: Int64
    /// While a paged pull is under way: the position of the last record sent, beyond `seq`.
    public let position: Int64?

    /// The cursor at `seq` of the store `epoch`, and while a paged pull is under way its `position`.
    public init(epoch: String, seq: Int64, position: Int64? = nil) {
        self.epoch = epoch
        self.seq = seq
        self.position = position
    }

    /// Parses the string form, returning nil when it is not a cursor.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), (1...32).contains(parts[0].count),
            parts[0].allSatisfy(\.isLowercaseHexDigit),
            parts.dropFirst().allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let seq = Int64(parts[1])
        else { return nil }
        var position: Int64?
        if parts.count == 3 {
            guard let value = Int64(parts[2]), value > seq else { return nil }
            position = value
        }
        self.init(epoch: String(parts[0]), seq: seq, position: position)
    }

    /// The cursor as it travels: `epoch.seq`, and `.position` during a paged pull.
    public var description: String { "\(epoch).\(seq)" + (position.map { ".\($0)" } ?? "") }

    /// Reads a cursor's string form, and throws when it is not one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cursor = SyncCursor(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a cursor from this server")
        }
        self = cursor
    }

    /// Writes the cursor's string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
