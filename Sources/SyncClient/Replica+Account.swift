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
    /// as after `410` (`forgetCursor()`).
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
        let values = ReplicaSettings.AccountValues(
            name: account.name, role: account.role.rawValue, recordBytes: String(account.limits.boundedRecordBytes),
            review: account.review?.rawValue)
        try ReplicaSettings.set(db, .accountName, values.name)
        try ReplicaSettings.set(db, .role, values.role)
        try ReplicaSettings.set(db, .recordBytes, values.recordBytes)
        try ReplicaSettings.set(db, .review, values.review)
        try ReplicaSettings.set(db, .accountFingerprint, account.fingerprint.map { values.stamped($0) })
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
struct LocalAdmission: Sendable {
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

    /// A refusal by role, with what to do next: a token whose role may make the change.
    private static func roleRefusal(_ said: Words, code: ErrorCode, role: Role) -> ClientError {
        ClientError(
            Words(
                "not saved: \(said.english) (\(code)); this replica's token is a \(role.rawValue) token: "
                    + "ask an admin for a token whose role may do this, then 'haven login'",
                korean: "저장하지 않았습니다: \(said.korean) (\(code)). 이 복제본의 토큰은 \(role.rawValue) "
                    + "토큰입니다: 이 일을 할 수 있는 역할의 토큰을 관리자에게 요청한 뒤 'haven login'을 실행하세요"))
    }

    /// Why `change` may not be saved, or nil.
    ///
    /// - Parameters:
    ///   - existing: the record before the change; nil when the change creates it.
    ///   - bytes: the change's ``Change/encodedBytes`` when the caller knows them.
    func refusal(of change: Change, existing: RecordState?, bytes: Int? = nil) -> ClientError? {
        if let role {
            // A record this replica holds unpublished is the token's own: a field token sees
            // no one else's (WritePermission).
            let refusal =
                WritePermission.refusal(of: change.record, by: role)
                ?? existing.flatMap { existing in
                    WritePermission.editRefusal(
                        of: change.record, by: role,
                        existing: .init(status: existing.values["status"]?.stringValue, isOwn: true))
                }
            if let refusal { return Self.roleRefusal(refusal.words, code: refusal.code, role: role) }
            if let detail = ReviewRule.refusal(
                of: .init(of: change.record, existing: existing, byLastEditor: nil), id: change.record.id, by: role,
                policy: review)
            {
                // The review rules' messages are the server's (English); quoted after what they mean.
                let said = Words(detail.message, korean: detail.code.koreanRefusal(quoting: detail.message))
                guard detail.code != .forbidden else { return Self.roleRefusal(said, code: detail.code, role: role) }
                return ClientError(
                    Words("not saved: \(said.english) (\(detail.code))", korean: "저장하지 않았습니다: \(said.korean) (\(detail.code))"))
            }
        }
        let bytes = bytes ?? change.encodedBytes
        guard bytes > recordBytes else { return nil }
        let largest = change.record.fields.max { Self.bytes(of: $0.value.value) < Self.bytes(of: $1.value.value) }
        let field = largest.map { field in
            let text = field.value.value.stringValue
            return Words(
                "; its largest field is \(field.key)"
                    + (text.map { " (\($0.count) characters, \($0.utf8.count) bytes)" } ?? "") + ": shorten it",
                korean: ". 가장 큰 필드는 \(field.key)입니다"
                    + (text.map { " (\($0.count)글자, \($0.utf8.count)바이트)" } ?? "") + ": 줄이세요")
        } ?? Words(verbatim: "")
        let id = change.record.id
        return ClientError(
            Words(
                "not saved: record \(id) would be \(bytes) bytes, more than the \(recordBytes) bytes "
                    + "(\(recordBytes / 1024) KiB) the server takes for one change\(field.english). Korean and Chinese "
                    + "text takes 3 bytes a character",
                korean: "저장하지 않았습니다: 기록 \(id)의 크기가 \(bytes)바이트로, 서버가 변경 하나로 받는 "
                    + "\(recordBytes)바이트(\(recordBytes / 1024) KiB)를 넘습니다\(field.korean). 한글과 한자는 "
                    + "한 글자가 3바이트입니다"))
    }

    private static func bytes(of value: JSONValue) -> Int {
        (try? JSONEncoder().encode(value).count) ?? 0
    }
}
