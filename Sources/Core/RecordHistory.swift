/// Every change of one record still in the server's log, newest first: who, when, and each
/// field's value before and after (`GET /v1/records/{id}/history`, `haven history ID`).
public struct RecordHistory: Sendable, Hashable, Codable {
    /// The record's id.
    public var id: String
    /// Whether it is a story or a resource.
    public var kind: RecordKind
    /// The record's changes still in the log, newest first.
    public var entries: [Entry]
    /// Compaction removed log entries received before this time (milliseconds since 1970) whose
    /// every value a later entry had replaced: the history before it is incomplete. Nil when the
    /// log was never compacted.
    public var compactedBefore: UInt64?

    /// A history of the record `id` from `entries`, newest first.
    public init(id: String, kind: RecordKind, entries: [Entry], compactedBefore: UInt64?) {
        self.id = id
        self.kind = kind
        self.entries = entries
        self.compactedBefore = compactedBefore
    }

    /// One change of the log.
    public struct Entry: Sendable, Hashable, Codable {
        /// Its place in the log.
        public var seq: Int64
        /// The name of the token that sent it.
        public var author: String
        /// When the server received it, milliseconds since 1970.
        public var receivedAt: UInt64
        /// The fields it set (`deleted` for the delete flag), in name order.
        public var fields: [Field]
        /// Fields it wrote that an earlier-received but newer write already held: they changed nothing.
        public var outdated: [String]

        /// A change at `seq` by `author`, received at `receivedAt`, that set `fields`.
        public init(seq: Int64, author: String, receivedAt: UInt64, fields: [Field], outdated: [String]) {
            self.seq = seq
            self.author = author
            self.receivedAt = receivedAt
            self.fields = fields
            self.outdated = outdated
        }
    }

    /// A field's value before and after one change.
    public struct Field: Sendable, Hashable, Codable {
        /// The field's name (`deleted` for the delete flag).
        public var name: String
        /// Nil when compaction removed the change that set it (`old` is then absent from the
        /// JSON); `null` when it was unset.
        public var old: JSONValue?
        /// The value the change set.
        public var new: JSONValue

        /// The field `name`, from `old` to `new`.
        public init(name: String, old: JSONValue?, new: JSONValue) {
            self.name = name
            self.old = old
            self.new = new
        }

        private enum CodingKeys: String, CodingKey { case name, old, new }

        // Written by hand: the synthesized coding reads `"old": null` as absent.
        /// Reads a field, telling an absent `old` (compacted) from a `null` one (unset).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            old = container.contains(.old) ? try container.decode(JSONValue.self, forKey: .old) : nil
            new = try container.decode(JSONValue.self, forKey: .new)
        }

        /// Writes the field, leaving `old` out when it is unknown.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            if let old { try container.encode(old, forKey: .old) }
            try container.encode(new, forKey: .new)
        }
    }
}
