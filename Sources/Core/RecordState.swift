/// One record as a replica holds it: every field and the `deleted` flag is a register.
///
/// A `RecordState` is also the shape of a delta: a state holding only some registers. Merging
/// a delta into a state is the same operation as merging two full states.
public struct RecordState: Sendable, Hashable, Codable {
    /// Lowercase UUID.
    public let id: String
    /// Whether the record is a story or a resource; it never changes.
    public let kind: RecordKind
    /// Field name → register. Unknown field names are kept as they are.
    public var fields: [String: Register]
    /// The `deleted` register; nil means never deleted.
    public var deleted: Register?

    /// A record `id` of `kind` holding `fields` and, if ever deleted, the `deleted` register.
    public init(id: String, kind: RecordKind, fields: [String: Register] = [:], deleted: Register? = nil) {
        self.id = id
        self.kind = kind
        self.fields = fields
        self.deleted = deleted
    }

    /// Whether the record is a tombstone.
    public var isDeleted: Bool { deleted?.value == .bool(true) }

    /// The current field values without stamps.
    public var values: [String: JSONValue] { fields.mapValues(\.value) }

    /// The largest stamp in this state, if it holds any register.
    public var latestStamp: Timestamp? {
        (fields.values.map(\.stamp) + [deleted?.stamp].compactMap { $0 }).max()
    }

    /// Merges `other` in, register by register; returns the names of the registers that changed
    /// (`"deleted"` for the flag).
    ///
    /// Merge is commutative, associative and idempotent. Both states must describe the same record.
    @discardableResult
    public mutating func merge(_ other: RecordState) -> Set<String> {
        precondition(id == other.id && kind == other.kind, "merging different records")
        if fields.isEmpty, deleted == nil {
            // Into nothing every register wins: a new record is its first delta. Register by
            // register this was a twelfth of an import and a twentieth of a first sync's apply.
            (fields, deleted) = (other.fields, other.deleted)
            return Set(other.fields.keys).union(other.deleted == nil ? [] : ["deleted"])
        }
        var changed: Set<String> = []
        for (name, register) in other.fields where Register.winner(fields[name], register) != fields[name] {
            fields[name] = register
            changed.insert(name)
        }
        if let winner = Register.winner(deleted, other.deleted), winner != deleted {
            deleted = winner
            changed.insert("deleted")
        }
        return changed
    }

    /// A copy with `other` merged in.
    public func merged(with other: RecordState) -> RecordState {
        var copy = self
        copy.merge(other)
        return copy
    }
}

/// A record's JSON may state a `stamp` of its own, which its registers without one carry (protocol
/// version 2's pull pages, ``ProtocolVersion/sharedStamps``): a record published in one write
/// states its stamp once instead of once a field. A register's own stamp always wins; a register
/// with neither is an error, as before.
extension RecordState {
    private enum CodingKeys: String, CodingKey {
        case id, kind, fields, deleted, stamp
    }

    /// A register as written in a record: its stamp may be the record's.
    private struct Written: Decodable {
        var value: JSONValue
        var stamp: Timestamp?

        func register(sharing shared: Timestamp?, at path: [any CodingKey]) throws -> Register {
            guard let stamp = stamp ?? shared else {
                throw DecodingError.keyNotFound(
                    RecordState.CodingKeys.stamp,
                    .init(codingPath: path, debugDescription: "a register without a stamp, in a record without one"))
            }
            return Register(value, stamp: stamp)
        }
    }

    /// Reads a record, its registers without a stamp taking the record's own `stamp`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let shared = try container.decodeIfPresent(Timestamp.self, forKey: .stamp)
        self.init(
            id: try container.decode(String.self, forKey: .id), kind: try container.decode(RecordKind.self, forKey: .kind),
            fields: try container.decode([String: Written].self, forKey: .fields).mapValues {
                try $0.register(sharing: shared, at: container.codingPath)
            },
            deleted: try container.decodeIfPresent(Written.self, forKey: .deleted)?.register(
                sharing: shared, at: container.codingPath))
    }

    /// Writes the record with every register stamped, as `JSONEncoder` always has
    /// (`CompactJSON`'s shared-stamp style writes pull pages).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(fields, forKey: .fields)
        try container.encodeIfPresent(deleted, forKey: .deleted)
    }

    /// The stamp most of the record's registers carry (the latest of equals), which a page in
    /// ``CompactJSON/Style/sharedStamps`` states once; nil when no two registers share one.
    package var sharedStamp: Timestamp? {
        var counts: [Timestamp: Int] = [:]
        for register in fields.values { counts[register.stamp, default: 0] += 1 }
        if let deleted { counts[deleted.stamp, default: 0] += 1 }
        guard let best = counts.max(by: { ($0.value, $0.key) < ($1.value, $1.key) }), best.value > 1 else { return nil }
        return best.key
    }
}
