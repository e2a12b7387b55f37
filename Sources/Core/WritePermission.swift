/// Which writes each role may make (DESIGN §4), as pure rules: the server refuses a pushed change
/// with them, and a client refuses the same edit before saving it, in the same words, once it
/// knows its role (`GET /v1/me`).
///
/// Rule 1. Admins and editors may write anything.
///
/// Rule 2. Readers write nothing.
///
/// Rule 3. Field staff write stories only, never publish, and edit only their own stories while
/// they are unpublished; a story an editor deleted only an editor restores.
///
/// A field token sees only published content and its own stories, so a client holding an
/// unpublished story knows it is its own; who deleted a record it cannot know, so that part of
/// rule 3 is the server's alone.
public enum WritePermission {
    /// What the rules need to know of a record as stored.
    public struct Existing: Sendable, Hashable {
        /// The stored `status`; a record without one counts as a draft.
        public var status: String
        /// Whether the writer created the record.
        public var isOwn: Bool
        /// Whether the record is deleted, and by someone other than the writer.
        public var deletedByOther: Bool

        public init(status: String?, isOwn: Bool, deletedByOther: Bool = false) {
            self.status = status ?? "draft"
            self.isOwn = isOwn
            self.deletedByOther = deletedByOther
        }
    }

    /// Why `role` may not write `change` (the registers written) whatever the record holds, or
    /// nil: rules 1, 2 and the part of 3 that needs no stored record.
    public static func refusal(of change: RecordState, by role: Role) -> ErrorDetail? {
        switch role {
        case .admin, .editor:
            return nil
        case .reader:
            return ErrorDetail(code: .forbidden, message: "a reader token cannot change records")
        case .field:
            if change.kind != .story {
                return ErrorDetail(code: .forbidden, message: "field staff cannot change resources")
            }
            if change.fields["status"]?.value == .string("published") {
                return ErrorDetail(code: .forbidden, message: "status: field staff cannot publish")
            }
            return nil
        }
    }

    /// Why `role` may not write `change` to the record `existing` describes, or nil (rule 3).
    public static func editRefusal(of change: RecordState, by role: Role, existing: Existing) -> ErrorDetail? {
        guard role == .field else { return nil }
        // Published first: a client cannot tell whose a published story is, and either answer is true.
        if existing.status == "published" {
            return ErrorDetail(
                code: .forbidden, message: "record \(change.id): published stories can be edited by editors only")
        }
        if !existing.isOwn {
            return ErrorDetail(
                code: .forbidden, message: "record \(change.id): field staff can edit only their own stories")
        }
        if change.deleted?.value == .bool(false), existing.deletedByOther {
            // Moderation sticks: what an editor deleted, only an editor brings back.
            return ErrorDetail(
                code: .forbidden, message: "record \(change.id) was deleted by an editor: only an editor can restore it")
        }
        return nil
    }
}
