/// A machine-readable error code of the sync protocol, as `{"error":{"code":…}}` and a rejected
/// change's `error.code` carry it: one vocabulary for server, client and tests.
///
/// For example:
/// ```swift
/// if result.error?.code == .clockAhead { restampUnsentChanges() }
/// ```
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The code as it travels: lowercase words joined by `_`, such as `clock_ahead`.
    public let rawValue: String

    /// The code `rawValue`, known here or not (a newer server may send new ones).
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The code as it travels, such as `clock_ahead`.
    public var description: String { rawValue }

    // Changes refused in a push, one by one.

    /// A stamp is further ahead of the server's clock than the allowed drift: re-stamp and retry.
    public static let clockAhead = ErrorCode(rawValue: "clock_ahead")
    /// The change writes no field and no delete flag.
    public static let emptyChange = ErrorCode(rawValue: "empty_change")
    /// The change id is not 1 to 100 of a-z, 0-9 and -.
    public static let invalidChange = ErrorCode(rawValue: "invalid_change")
    /// The record id is not a lowercase UUID.
    public static let invalidRecord = ErrorCode(rawValue: "invalid_record")
    /// A field's value breaks the record schema.
    public static let invalidField = ErrorCode(rawValue: "invalid_field")
    /// A required field is missing from the record.
    public static let missingField = ErrorCode(rawValue: "missing_field")
    /// The change names the record as another kind than it is.
    public static let kindMismatch = ErrorCode(rawValue: "kind_mismatch")
    /// The record was deleted and then purged by compaction: it cannot change or come back.
    public static let recordPurged = ErrorCode(rawValue: "record_purged")
    /// One change is larger than the server stores.
    public static let recordTooLarge = ErrorCode(rawValue: "record_too_large")
    /// Refused without a code: what the client records when a server gave none.
    public static let rejected = ErrorCode(rawValue: "rejected")
    /// The caller's role may not do this.
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// The author already logged another change under this id: the replica was copied or
    /// restored. Give the replica a new id and send the change again under a new change id.
    public static let changeIDConflict = ErrorCode(rawValue: "change_id_conflict")
    /// The record id belongs to a record the author cannot write, or had not seen when it wrote
    /// the change: create the record again under a new id.
    public static let idTaken = ErrorCode(rawValue: "id_taken")
    /// A stamp carries the replica id of another account: a replica writes with its own id only.
    public static let replicaTaken = ErrorCode(rawValue: "replica_taken")
    /// The change would publish content no second person reviewed: a draft published without
    /// review, or an edit that would leave a record in review or published (``ReviewRule`` rule 1).
    public static let reviewRequired = ErrorCode(rawValue: "review_required")
    /// The status move is not one of draft → review → published, review → draft, published → draft.
    public static let invalidTransition = ErrorCode(rawValue: "invalid_transition")
    /// The last editor of a record approves or declines it: another editor or admin must.
    public static let selfReview = ErrorCode(rawValue: "self_review")

    /// The change's `media` names a blob the server does not hold complete and verified, or
    /// one this account has not uploaded: upload the file first, then push the change.
    public static let mediaMissing = ErrorCode(rawValue: "media_missing")

    // Whole requests.

    /// No valid bearer token.
    public static let unauthorized = ErrorCode(rawValue: "unauthorized")
    /// Too many failed sign-ins from this address; see `Retry-After`.
    public static let tooManyAttempts = ErrorCode(rawValue: "too_many_attempts")
    /// The cursor cannot be caught up with: download everything again.
    public static let cursorExpired = ErrorCode(rawValue: "cursor_expired")
    /// `since` is not a cursor.
    public static let invalidCursor = ErrorCode(rawValue: "invalid_cursor")
    /// `limit` is not a whole number from 1 up.
    public static let invalidLimit = ErrorCode(rawValue: "invalid_limit")
    /// `wait` is not a number of seconds in range.
    public static let invalidWait = ErrorCode(rawValue: "invalid_wait")
    /// The body is not the JSON expected.
    public static let invalidJSON = ErrorCode(rawValue: "invalid_json")
    /// A header's value is malformed, or names a protocol version newer than the server's.
    public static let invalidHeader = ErrorCode(rawValue: "invalid_header")
    /// The request is not valid HTTP/1.1: its request line or its chunked body cannot be parsed.
    /// The server closes the connection after answering.
    public static let invalidRequest = ErrorCode(rawValue: "invalid_request")
    /// The client speaks a protocol version older than the server still answers
    /// (``ProtocolVersion/oldestSupported``), answered with 426: update haven.
    public static let upgradeRequired = ErrorCode(rawValue: "upgrade_required")
    /// The body is not valid gzip.
    public static let invalidEncoding = ErrorCode(rawValue: "invalid_encoding")
    /// The body nests arrays and objects too deeply.
    public static let tooDeep = ErrorCode(rawValue: "too_deep")
    /// The body is larger than the server accepts.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// More changes in one push than the server accepts.
    public static let batchTooLarge = ErrorCode(rawValue: "batch_too_large")
    /// `Content-Type` is not `application/json`.
    public static let unsupportedMediaType = ErrorCode(rawValue: "unsupported_media_type")
    /// `Content-Encoding` is neither gzip nor identity.
    public static let unsupportedEncoding = ErrorCode(rawValue: "unsupported_encoding")
    /// No route for the path.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// No record with this id, or none the caller may see.
    public static let recordNotFound = ErrorCode(rawValue: "record_not_found")
    /// The route does not answer this method; see `Allow`.
    public static let methodNotAllowed = ErrorCode(rawValue: "method_not_allowed")
    /// No blob or upload with this id, or none the caller may see.
    public static let mediaNotFound = ErrorCode(rawValue: "media_not_found")
    /// An upload's `Upload-Offset` is not where the server's copy ends; the answer's
    /// `Upload-Offset` says where it does: send from there.
    public static let offsetMismatch = ErrorCode(rawValue: "offset_mismatch")
    /// The uploaded bytes do not hash to the blob's id: the upload was discarded.
    public static let hashMismatch = ErrorCode(rawValue: "hash_mismatch")
    /// A file is larger than the server stores, or would take the account past its quota.
    public static let mediaTooLarge = ErrorCode(rawValue: "media_too_large")
    /// A `Range` header asks for bytes the blob does not have.
    public static let invalidRange = ErrorCode(rawValue: "invalid_range")
    /// The database does not answer.
    public static let unavailable = ErrorCode(rawValue: "unavailable")
    /// The server failed; nothing about the request is at fault.
    public static let `internal` = ErrorCode(rawValue: "internal")

    // Failures of a `haven` command itself, as `--json` prints them; no server answers these.

    /// The server could not be reached: connection refused, a name that did not resolve, a timeout.
    public static let unreachable = ErrorCode(rawValue: "unreachable")
    /// The command line was not understood (a missing or malformed option).
    public static let invalidArguments = ErrorCode(rawValue: "invalid_arguments")
    /// The command failed on this device; the message says why and what to do.
    public static let commandFailed = ErrorCode(rawValue: "command_failed")
    /// Published content did not match the publisher's signature, or was signed by a key the
    /// replica does not trust; the replica kept its last verified state.
    public static let unverifiedContent = ErrorCode(rawValue: "unverified_content")
}
