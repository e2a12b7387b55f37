/// Which writes each role may make, as pure functions of the rule that
/// <doc:RolesAndVisibility> states (rule 2): the server refuses a pushed change with them, and a
/// client refuses the same edit before saving it, in the same words, once it knows its role
/// (`GET /v1/me`).
///
/// A field token sees only published content and its own stories, so a client holding an
/// unpublished story knows it is its own; who deleted a record it cannot know, so that part of
/// the rule is the server's alone.
public enum WritePermission {
    /// What the rules need to know of a record as stored.
    public struct Existing: Sendable, Hashable {
        /// The stored `status`; a record without one counts as a draft.
        public var status: String
        /// Whether the writer created the record.
        public var isOwn: Bool
        /// Whether the record is deleted, and by someone other than the writer.
        public var deletedByOther: Bool

        /// A record with this `status` (nil counts as a draft), created by the writer or not.
        public init(status: String?, isOwn: Bool, deletedByOther: Bool = false) {
            self.status = status ?? "draft"
            self.isOwn = isOwn
            self.deletedByOther = deletedByOther
        }
    }

    /// Why a write is refused: the server answers its ``detail`` (in English, the protocol's
    /// language); a client says its ``words`` in the person's language.
    public struct Refusal: Sendable, Hashable {
        /// Always ``ErrorCode/forbidden``.
        public var code: ErrorCode { .forbidden }
        /// What the refusal says, in every language.
        public var words: Words
        /// The server's answer.
        public var detail: ErrorDetail { ErrorDetail(code: code, message: words.english) }
    }

    /// Why `role` may not write `change` (the registers written) whatever the record holds, or
    /// nil: the parts of the rule that need no stored record.
    public static func refusal(of change: RecordState, by role: Role) -> Refusal? {
        switch role {
        case .admin, .editor:
            return nil
        case .reader:
            return Refusal(
                words: Words("a reader token cannot change records", korean: "읽기 전용(reader) 토큰으로는 기록을 바꿀 수 없습니다"))
        case .field:
            if change.kind != .story {
                return Refusal(
                    words: Words("field staff cannot change resources", korean: "현장 직원(field)은 지원 정보(resource)를 바꿀 수 없습니다"))
            }
            if change.fields["status"]?.value == .string("published") {
                return Refusal(
                    words: Words("status: field staff cannot publish", korean: "status: 현장 직원(field)은 게시할 수 없습니다"))
            }
            return nil
        }
    }

    /// Why `role` may not write `change` to the record `existing` describes, or nil: the field
    /// staff's own unpublished stories, and restores.
    public static func editRefusal(of change: RecordState, by role: Role, existing: Existing) -> Refusal? {
        guard role == .field else { return nil }
        let id = change.id
        // Published first: a client cannot tell whose a published story is, and either answer is true.
        if existing.status == "published" {
            return Refusal(
                words: Words(
                    "record \(id): published stories can be edited by editors only",
                    korean: "기록 \(id): 게시된 이야기는 편집자(editor)만 고칠 수 있습니다"))
        }
        if !existing.isOwn {
            return Refusal(
                words: Words(
                    "record \(id): field staff can edit only their own stories",
                    korean: "기록 \(id): 현장 직원(field)은 자신이 쓴 이야기만 고칠 수 있습니다"))
        }
        if change.deleted?.value == .bool(false), existing.deletedByOther {
            // Moderation sticks: what an editor deleted, only an editor brings back.
            return Refusal(
                words: Words(
                    "record \(id) was deleted by an editor: only an editor can restore it",
                    korean: "기록 \(id): 편집자(editor)가 삭제한 기록이라 편집자만 되살릴 수 있습니다"))
        }
        return nil
    }
}
