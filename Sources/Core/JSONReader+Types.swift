/// The types ``JSONReader`` reads directly, each with the rules its synthesized (or written)
/// `Decodable` conformance has: every key required unless optional, an optional `nil` when its
/// key is missing or null, unknown keys skipped. What a type leaves to `JSONDecoder` it reports
/// as ``JSONReader/Unreadable``.

extension JSONValue: JSONReadable {
    package init(reading reader: inout JSONReader) throws {
        self = try reader.readValue()
    }
}

extension Timestamp: JSONReadable {
    package init(reading reader: inout JSONReader) throws {
        guard let stamp = Timestamp(try reader.readString()) else { throw reader.unreadable() }
        self = stamp
    }
}

extension SyncCursor: JSONReadable {
    package init(reading reader: inout JSONReader) throws {
        guard let cursor = SyncCursor(try reader.readString()) else { throw reader.unreadable() }
        self = cursor
    }
}

extension RecordKind: JSONReadable {
    package init(reading reader: inout JSONReader) throws {
        guard let kind = RecordKind(rawValue: try reader.readString()) else { throw reader.unreadable() }
        self = kind
    }
}

extension Register: JSONReadable {
    private static let keys = ["value", "stamp"]

    package init(reading reader: inout JSONReader) throws {
        let (value, stamp) = try Self.read(&reader)
        guard let stamp else { throw reader.unreadable() }
        self.init(value, stamp: stamp)
    }

    /// A register's value and, when it states one, its stamp (a record's registers may leave
    /// theirs to the record: RecordState.swift).
    fileprivate static func read(_ reader: inout JSONReader) throws -> (JSONValue, Timestamp?) {
        var value: JSONValue?
        var stamp: Timestamp?
        try reader.readMembers(keys) { reader, key in
            switch key {
            case 0: value = try reader.readValue()
            default: stamp = try Timestamp(reading: &reader)
            }
        }
        guard let value else { throw reader.unreadable() }
        return (value, stamp)
    }
}

extension RecordState: JSONReadable {
    private static let keys = ["id", "kind", "fields", "deleted", "stamp"]

    package init(reading reader: inout JSONReader) throws {
        var id: String?
        var kind: RecordKind?
        var fields: [String: (JSONValue, Timestamp?)]?
        var deleted: (JSONValue, Timestamp?)?
        var shared: Timestamp?
        try reader.readMembers(Self.keys) { reader, key in
            switch key {
            case 0: id = try reader.readString()
            case 1: kind = try RecordKind(reading: &reader)
            case 2: fields = try reader.readDictionary { try Register.read(&$0) }
            case 3: deleted = reader.readNull() ? nil : try Register.read(&reader)
            default: shared = try Timestamp(reading: &reader)
            }
        }
        guard let id, let kind, let fields else { throw reader.unreadable() }
        func register(_ written: (JSONValue, Timestamp?)) throws -> Register {
            guard let stamp = written.1 ?? shared else { throw reader.unreadable() }
            return Register(written.0, stamp: stamp)
        }
        self.init(id: id, kind: kind, fields: try fields.mapValues(register), deleted: try deleted.map(register))
    }
}

extension TrackedRecord.Entry: JSONReadable {
    private static let keys = ["register", "seq", "author"]

    package init(reading reader: inout JSONReader) throws {
        var register: Register?
        var seq: Int64?
        var author: String?
        try reader.readMembers(Self.keys) { reader, key in
            switch key {
            case 0: register = try Register(reading: &reader)
            case 1: seq = try reader.readInt64()
            default: author = try reader.readString()
            }
        }
        guard let register, let seq, let author else { throw reader.unreadable() }
        self.init(register, seq: seq, author: author)
    }
}

extension TrackedRecord: JSONReadable {
    private static let keys = ["id", "kind", "fields", "deleted", "lastSeq"]

    package init(reading reader: inout JSONReader) throws {
        var id: String?
        var kind: RecordKind?
        var fields: [String: Entry]?
        var deleted: Entry?
        var lastSeq: Int64?
        try reader.readMembers(Self.keys) { reader, key in
            switch key {
            case 0: id = try reader.readString()
            case 1: kind = try RecordKind(reading: &reader)
            case 2: fields = try reader.readDictionary { try Entry(reading: &$0) }
            case 3: deleted = reader.readNull() ? nil : try Entry(reading: &reader)
            default: lastSeq = try reader.readInt64()
            }
        }
        guard let id, let kind, let fields, let lastSeq else { throw reader.unreadable() }
        self.init(id: id, kind: kind)
        self.fields = fields
        self.deleted = deleted
        self.lastSeq = lastSeq
    }
}

extension Change: JSONReadable {
    private static let keys = ["id", "base", "record"]

    package init(reading reader: inout JSONReader) throws {
        var id: String?
        var base: SyncCursor?
        var record: RecordState?
        try reader.readMembers(Self.keys) { reader, key in
            switch key {
            case 0: id = try reader.readString()
            case 1: base = reader.readNull() ? nil : try SyncCursor(reading: &reader)
            default: record = try RecordState(reading: &reader)
            }
        }
        guard let id, let record else { throw reader.unreadable() }
        self.init(id: id, base: base, record: record)
    }
}

extension PushRequest: JSONReadable {
    package init(reading reader: inout JSONReader) throws {
        var changes: [Change]?
        try reader.readMembers(["changes"]) { reader, _ in changes = try reader.readArray { try Change(reading: &$0) } }
        guard let changes else { throw reader.unreadable() }
        self.init(changes: changes)
    }
}

extension PublishedSetSignature: JSONReadable {
    private static let keys = ["key", "seq", "digest", "signature"]

    package init(reading reader: inout JSONReader) throws {
        var key: String?
        var seq: Int64?
        var digest: String?
        var signature: String?
        try reader.readMembers(Self.keys) { reader, name in
            switch name {
            case 0: key = try reader.readString()
            case 1: seq = try reader.readInt64()
            case 2: digest = try reader.readString()
            default: signature = try reader.readString()
            }
        }
        guard let key, let seq, let digest, let signature else { throw reader.unreadable() }
        self.init(key: key, seq: seq, digest: digest, signature: signature)
    }
}

extension PullResponse: JSONReadable {
    private static let keys = ["changes", "removed", "conflicts", "cursor", "more", "serverTime", "remaining", "signature"]

    /// Conflicts are rare: a page that has any is left to `JSONDecoder`.
    package init(reading reader: inout JSONReader) throws {
        var changes: [RecordState] = []
        var removed: [String] = []
        var cursor: SyncCursor?
        var more: Bool?
        var serverTime: UInt64?
        var remaining: Int?
        var signature: PublishedSetSignature?
        try reader.readMembers(Self.keys) { reader, key in
            switch key {
            case 0: changes = reader.readNull() ? [] : try reader.readArray { try RecordState(reading: &$0) }
            case 1: removed = reader.readNull() ? [] : try reader.readArray { try $0.readString() }
            case 2:
                guard try reader.readNull() || reader.readArray({ try $0.readValue() }).isEmpty else {
                    throw reader.unreadable()
                }
            case 3: cursor = try SyncCursor(reading: &reader)
            case 4: more = try reader.readBool()
            case 5: serverTime = try reader.readUInt64()
            case 6: remaining = reader.readNull() ? nil : Int(try reader.readInt64())
            default: signature = reader.readNull() ? nil : try PublishedSetSignature(reading: &reader)
            }
        }
        guard let cursor, let more, let serverTime else { throw reader.unreadable() }
        self.init(
            changes: changes, removed: removed, conflicts: [], cursor: cursor, more: more, serverTime: serverTime,
            remaining: remaining, signature: signature)
    }
}
