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
