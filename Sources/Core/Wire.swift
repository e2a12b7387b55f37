/// The bodies of the sync protocol (DESIGN §4), shared by server and client.

/// One local edit on its way to the server: the registers it wrote, and what its author had seen.
public struct Change: Sendable, Hashable, Codable {
    /// Unique id: the replica id, a dash and the replica's change counter. Makes pushes idempotent.
    public var id: String
    /// The cursor the replica held when the edit was made; nil if it had never pulled.
    public var base: SyncCursor?
    /// The registers written, as a partial state of the record.
    public var record: RecordState

    /// A change `id` writing `record`'s registers, made having seen `base`.
    public init(id: String, base: SyncCursor?, record: RecordState) {
        self.id = id
        self.base = base
        self.record = record
    }
}

/// `POST /v1/changes` body.
public struct PushRequest: Sendable, Hashable, Codable {
    /// The changes to push, oldest first.
    public var changes: [Change]
    /// A push of `changes`.
    public init(changes: [Change]) { self.changes = changes }
}

/// The server's answer for one pushed change.
public struct PushResult: Sendable, Hashable, Codable {
    /// What became of a pushed change.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Written to the log now.
        case applied
        /// Already in the log: a repeated push of the same change.
        case duplicate
        /// Refused; `error` says why. The rest of the batch is unaffected.
        case rejected
    }

    /// The change's id.
    public var id: String
    /// Applied, duplicate or rejected.
    public var status: Status
    /// Why the change was rejected; nil otherwise.
    public var error: ErrorDetail?

    /// The result `status` for the change `id`, with `error` when it was rejected.
    public init(id: String, status: Status, error: ErrorDetail? = nil) {
        self.id = id
        self.status = status
        self.error = error
    }
}

/// `POST /v1/changes` answer: one result per change, in the order sent.
public struct PushResponse: Sendable, Hashable, Codable {
    /// One result per change, in the order sent.
    public var results: [PushResult]
    /// The server's clock in milliseconds since 1970.
    public var serverTime: UInt64

    /// The answer to a push: `results` in the order sent, and the server's clock.
    public init(results: [PushResult], serverTime: UInt64) {
        self.results = results
        self.serverTime = serverTime
    }
}

/// `GET /v1/changes` answer: the records changed since the caller's cursor, each with only the
/// registers that changed, and the conflicts addressed to the caller.
public struct PullResponse: Sendable, Hashable, Codable {
    /// The records changed after the cursor, each with only the registers changed after it.
    public var changes: [RecordState]
    /// Ids of records the caller may no longer see (unpublished, restricted, purged): drop them.
    public var removed: [String]
    /// Writes of the caller's that lost, not yet delivered (<doc:Conflicts>).
    public var conflicts: [Conflict]
    /// Where the next pull starts.
    public var cursor: SyncCursor
    /// Whether more pages follow right away.
    public var more: Bool
    /// The server's clock in milliseconds since 1970.
    public var serverTime: UInt64
    /// When more pages follow: about how many records changed after this page (counted before
    /// the caller's visibility is applied), so that a client can size its pages to the whole
    /// download. Absent on the last page.
    public var remaining: Int?
    /// The publisher's signature over the published set at ``cursor``, on a page that brings the
    /// caller to the head (no `more`) of a server with a signing key.
    public var signature: PublishedSetSignature?

    /// A page of `changes`, ids no longer visible in `removed`, the caller's `conflicts`, and the cursor to go on from.
    public init(
        changes: [RecordState], removed: [String] = [], conflicts: [Conflict], cursor: SyncCursor, more: Bool,
        serverTime: UInt64, remaining: Int? = nil, signature: PublishedSetSignature? = nil
    ) {
        self.changes = changes
        self.removed = removed
        self.conflicts = conflicts
        self.cursor = cursor
        self.more = more
        self.serverTime = serverTime
        self.remaining = remaining
        self.signature = signature
    }
    private enum CodingKeys: String, CodingKey {
        case changes, removed, conflicts, cursor, more, serverTime, remaining, signature
    }

    // Empty lists are left out: most polls find nothing new, and on a metered link every byte
    // of them is paid for (BENCHMARKS.md, no-change poll).
    /// Reads a page, taking absent lists as empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        changes = try container.decodeIfPresent([RecordState].self, forKey: .changes) ?? []
        removed = try container.decodeIfPresent([String].self, forKey: .removed) ?? []
        conflicts = try container.decodeIfPresent([Conflict].self, forKey: .conflicts) ?? []
        cursor = try container.decode(SyncCursor.self, forKey: .cursor)
        more = try container.decode(Bool.self, forKey: .more)
        serverTime = try container.decode(UInt64.self, forKey: .serverTime)
        remaining = try container.decodeIfPresent(Int.self, forKey: .remaining)
        signature = try container.decodeIfPresent(PublishedSetSignature.self, forKey: .signature)
    }

    /// Writes the page, leaving empty lists out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if !changes.isEmpty { try container.encode(changes, forKey: .changes) }
        if !removed.isEmpty { try container.encode(removed, forKey: .removed) }
        if !conflicts.isEmpty { try container.encode(conflicts, forKey: .conflicts) }
        try container.encode(cursor, forKey: .cursor)
        try container.encode(more, forKey: .more)
        try container.encode(serverTime, forKey: .serverTime)
        try container.encodeIfPresent(remaining, forKey: .remaining)
        try container.encodeIfPresent(signature, forKey: .signature)
    }
}

/// A machine-readable code and a message that names the bad input.
public struct ErrorDetail: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of error, for machines.
    public var code: ErrorCode
    /// What is wrong, naming the bad input, for people.
    public var message: String

    /// An error with `code` and `message`.
    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    /// The message, then the code in parentheses.
    public var description: String { "\(message) (\(code))" }
}

/// Every error response's body: `{"error":{"code":"…","message":"…"}}`.
public struct ErrorBody: Sendable, Hashable, Codable {
    /// The error.
    public var error: ErrorDetail
    /// The body of the error `error`.
    public init(_ error: ErrorDetail) { self.error = error }
}
