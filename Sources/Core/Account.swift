/// `GET /v1/me` answer: who the token is, and the limits the server enforces, so that a client
/// refuses before saving what the server would refuse after sync.
///
/// It says nothing about other accounts, and nothing a token's holder could not learn by trying.
/// For example:
/// ```json
/// {"name":"amina","role":"field","limits":{"recordBytes":262144,"requestBytes":8388608,…}}
/// ```
public struct Account: Sendable, Hashable, Codable {
    /// The token's name, shown to others as the author of its writes.
    public var name: String
    /// The token's role: what it may read and write.
    public var role: Role
    /// The limits the server enforces, for the client to refuse the same before saving.
    public var limits: ServerLimits
    /// How many people publishing needs on this server; nil from a server older than review
    /// before publish, which a client treats as ``ReviewPolicy/two`` (the stricter).
    public var review: ReviewPolicy?
    /// A short digest of the rest of this answer, which the server also sends with every
    /// answer to the token (the `Haven-Account` header): a client that holds this fingerprint
    /// need not ask `GET /v1/me` again until an answer shows another. Nil from an older server.
    public var fingerprint: String?

    /// The header every answer to a token carries its account's ``fingerprint`` in.
    public static let fingerprintHeader = "Haven-Account"

    /// An account answer for a token named `name` with `role` on a server with `limits`.
    public init(
        name: String, role: Role, limits: ServerLimits, review: ReviewPolicy? = .two, fingerprint: String? = nil
    ) {
        self.name = name
        self.role = role
        self.limits = limits
        self.review = review
        self.fingerprint = fingerprint
    }
}

/// The limits a server enforces, in the units it counts them in: bytes of UTF-8 JSON for
/// requests and changes, characters (a person's, Swift's `Character`) and list entries for fields.
public struct ServerLimits: Sendable, Hashable, Codable {
    /// Largest change, in bytes of its JSON: a larger one is rejected `record_too_large`. A change
    /// carries the fields it writes, so a new story's is about the size of the whole story.
    public var recordBytes: Int
    /// Largest request body, in bytes.
    public var requestBytes: Int
    /// Most changes in one push.
    public var batchChanges: Int
    /// Most records in one pull page.
    public var pageRecords: Int
    /// Deepest nesting of arrays and objects in a request body.
    public var nestingDepth: Int
    /// Field length limits by record kind and field name (``RecordSchema/fieldLimits(of:)``).
    public var fields: [String: [String: RecordSchema.FieldLimit]]

    /// Limits with the server's defaults unless given (``ProtocolLimits``); field limits from the schema.
    public init(
        recordBytes: Int = ProtocolLimits.recordBytes, requestBytes: Int = ProtocolLimits.requestBytes,
        batchChanges: Int = ProtocolLimits.batchChanges, pageRecords: Int = ProtocolLimits.pageRecords,
        nestingDepth: Int = ProtocolLimits.nestingDepth
    ) {
        self.recordBytes = recordBytes
        self.requestBytes = requestBytes
        self.batchChanges = batchChanges
        self.pageRecords = pageRecords
        self.nestingDepth = nestingDepth
        self.fields = Dictionary(
            uniqueKeysWithValues: RecordKind.allCases.map { ($0.rawValue, RecordSchema.fieldLimits(of: $0)) })
    }

    /// The largest change a client accepts a server's word for: a server may say less than the
    /// default (it then refuses more), but what it says above this is held here, so that a broken
    /// or hostile answer cannot make a client keep edits its own answers bound could not carry.
    public static let largestRecordBytes = ProtocolLimits.answerBytes / 8

    /// ``recordBytes`` as a client should hold edits to: at least 1 KiB (no answer makes every
    /// edit unsavable by a typo of its own), at most ``largestRecordBytes``.
    public var boundedRecordBytes: Int { min(max(recordBytes, 1 << 10), Self.largestRecordBytes) }
}
