import Foundation
import GRDB
import HavenCore

/// What the server says of the replica's token (`GET /v1/me`), kept so that edits are checked
/// before they are saved, as the server would check them (``LocalAdmission``).
extension Replica {
    /// Keeps the token's name, role and the server's record limit.
    public func saveAccount(_ account: Account) throws {
        try database.write { db in try Self.saveAccount(db, account) }
    }

    /// Puts `server`, `token` and `link` in place of the replica's, with the `account` checked
    /// there, in one transaction, keeping every unsent and rejected change (`haven login`).
    ///
    /// A new token is another account on the server, which refuses stamps of a replica id
    /// another account used (`replica_taken`): the replica takes a new id, and its unsent
    /// changes are stamped and named again under it. With `redownload`, the cursor is forgotten
    /// as after `410` (``forgetCursor()``).
    ///
    /// - Returns: how many unsent and rejected changes were kept.
    public func login(server: URL, token: String, link: Link, account: Account, redownload: Bool) throws -> Int {
        try database.write { db in
            let old = try ReplicaSettings.load(db)
            try ReplicaSettings.set(db, .server, server.absoluteString)
            try ReplicaSettings.set(db, .token, token)
            try ReplicaSettings.set(db, .pin, link.pin?.description)
            try ReplicaSettings.set(db, .insecureHTTP, link.insecureHTTP ? "1" : nil)
            try Self.saveAccount(db, account)
            if token != old.token { _ = try takeNewIdentity(db) }
            if redownload { try forgetCursor(db) }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
        }
    }

    static func saveAccount(_ db: Database, _ account: Account) throws {
        try ReplicaSettings.set(db, .accountName, account.name)
        try ReplicaSettings.set(db, .role, account.role.rawValue)
        try ReplicaSettings.set(db, .recordBytes, String(account.limits.boundedRecordBytes))
        try ReplicaSettings.set(db, .review, account.review?.rawValue)
    }
}

/// The checks a local write passes before it is saved: those the server would make of it once
/// pushed, with the server's words, so that nothing is "saved" that sync would refuse.
///
/// Rule 1. A write the token's role may not make (``WritePermission``) is refused, once the
/// replica knows its role; before that (a replica made `--offline`) the server decides.
///
/// Rule 2. A status move or an edit that review before publish forbids (``ReviewRule``) is
/// refused, once the replica knows its role; who made a record's latest content change the
/// replica cannot know, so approving one's own change is the server's to refuse.
///
/// Rule 3. A change whose JSON is larger than the server takes (its `recordBytes`, or the
/// default ``ProtocolLimits/recordBytes`` before it said) is refused, naming its largest field.
struct LocalAdmission {
    var role: Role?
    var recordBytes: Int
    var review: ReviewPolicy

    init(_ settings: ReplicaSettings) {
        self.role = settings.role
        self.recordBytes = settings.recordBytes ?? ProtocolLimits.recordBytes
        self.review = settings.review ?? .two
    }

    init(role: Role?, recordBytes: Int = ProtocolLimits.recordBytes, review: ReviewPolicy = .two) {
        self.role = role
        self.recordBytes = recordBytes
        self.review = review
    }

    /// Why `change` may not be saved, or nil.
    ///
    /// - Parameter existing: the record before the change; nil when the change creates it.
    func refusal(of change: Change, existing: RecordState?) -> ClientError? {
        if let role {
            // A record this replica holds unpublished is the token's own: a field token sees
            // no one else's (WritePermission).
            let detail =
                WritePermission.refusal(of: change.record, by: role)
                ?? existing.flatMap { existing in
                    WritePermission.editRefusal(
                        of: change.record, by: role,
                        existing: .init(status: existing.values["status"]?.stringValue, isOwn: true))
                }
                ?? ReviewRule.refusal(
                    of: .init(of: change.record, existing: existing, byLastEditor: nil), id: change.record.id, by: role,
                    policy: review)
            if let detail, detail.code != .forbidden {
                return ClientError("not saved: \(detail.message) (\(detail.code))")
            }
            if let detail {
                return ClientError(
                    "not saved: \(detail.message) (\(detail.code)); this replica's token is a \(role.rawValue) token: "
                        + "ask an admin for a token whose role may do this, then 'haven login'")
            }
        }
        let bytes = change.encodedBytes
        guard bytes > recordBytes else { return nil }
        let largest = change.record.fields.max { Self.bytes(of: $0.value.value) < Self.bytes(of: $1.value.value) }
        let field = largest.map { field in
            let text = field.value.value.stringValue
            let characters = text.map { " (\($0.count) characters, \($0.utf8.count) bytes)" } ?? ""
            return "; its largest field is \(field.key)\(characters): shorten it"
        } ?? ""
        return ClientError(
            "not saved: record \(change.record.id) would be \(bytes) bytes, more than the \(recordBytes) bytes "
                + "(\(recordBytes / 1024) KiB) the server takes for one change\(field). Korean and Chinese text "
                + "takes 3 bytes a character")
    }

    private static func bytes(of value: JSONValue) -> Int {
        (try? JSONEncoder().encode(value).count) ?? 0
    }
}
