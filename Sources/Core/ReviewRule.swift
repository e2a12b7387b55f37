/// Review before publish (DESIGN §8), as pure rules beside ``WritePermission``: the server refuses
/// a pushed change with them, judged on the record as the change leaves it after the merge, and
/// a client refuses the same edit before saving it.
///
/// Rule 1. Nothing unreviewed is published: a change that alters a record's content (any field
/// but `status` and `reviewComment`) must leave it a draft. A client editing a record in review
/// or published therefore writes `status: draft` with the edit, stamped with it; an edit made
/// offline that loses the status register to a later approval leaves the record published with
/// content nobody reviewed, and is refused (`review_required`). Under ``ReviewPolicy/single`` an
/// editor's or admin's edit may leave a record published: their own sign-off.
///
/// Rule 2. Status moves draft → review (submit: field staff and editors), review → published
/// (approve) and review → draft (decline) by an editor or admin, published → draft (unpublish) by
/// an editor or admin; an edit in review sends the record to draft (rule 1). Anything else is
/// `invalid_transition`; under ``ReviewPolicy/single`` editors may also publish a draft directly.
///
/// Rule 3. Under ``ReviewPolicy/two`` the last editor of a record, the author of its latest
/// content change, neither approves nor declines it (`self_review`).
///
/// Review comments are the `reviewComment` field: a register like the others, so a comment
/// travels with the record to every replica that may read it, and each one stays in the log,
/// where the record's history shows it.
public enum ReviewRule {
    /// The field review comments are written to, with the status they go with.
    public static let commentField = "reviewComment"

    /// Whether writing `field` changes what a record says, as opposed to its review state.
    public static func isContent(_ field: String) -> Bool {
        field != "status" && field != commentField
    }

    /// What the rules need to know of one change.
    public struct Move: Sendable, Hashable {
        /// The record's status before the change (a new record, or one without, is a draft).
        public var before: String
        /// Its status once the change is merged.
        public var after: String
        /// Whether the merge changed a content field's value.
        public var changesContent: Bool
        /// The status the change wrote, nil when it wrote none.
        public var written: String?
        /// Whether the writer is the record's last editor; nil when unknown (a client does not
        /// know who wrote what), leaving rule 3 to the server.
        public var byLastEditor: Bool?

        /// The record's kind, to name the command that submits it.
        public var kind: RecordKind

        /// A status move from `before` to `after` (nil counts as a draft), by a change that alters content or not.
        public init(
            kind: RecordKind, before: String?, after: String?, changesContent: Bool, written: String?,
            byLastEditor: Bool?
        ) {
            self.kind = kind
            self.before = before ?? "draft"
            self.after = after ?? "draft"
            self.changesContent = changesContent
            self.written = written
            self.byLastEditor = byLastEditor
        }

        /// The move `change` makes of `existing` (nil: a creation), merged by the merge rules.
        ///
        /// Only the registers `change` writes can differ after the merge, so only they are
        /// merged here: copying and merging the whole record was about 6% of an import's time.
        public init(of change: RecordState, existing: RecordState?, byLastEditor: Bool?) {
            let before = existing?.fields ?? [:]
            let merged = { (name: String) in Register.winner(before[name], change.fields[name])?.value }
            let changesContent = change.fields.keys.contains { name in
                ReviewRule.isContent(name) && merged(name) != before[name]?.value
            }
            self.init(
                kind: change.kind, before: before["status"]?.value.stringValue, after: merged("status")?.stringValue,
                changesContent: changesContent, written: change.fields["status"]?.value.stringValue,
                byLastEditor: byLastEditor)
        }
    }

    /// Why `role` may not make `move` to record `id` under `policy`, or nil.
    public static func refusal(of move: Move, id: String, by role: Role, policy: ReviewPolicy) -> ErrorDetail? {
        let signsOff = policy == .single && role.seesEverything
        if move.changesContent, move.after != "draft", !(signsOff && move.after == "published") {
            return ErrorDetail(code: .reviewRequired, message: contentRefusal(move, id: id))
        }
        guard move.before != move.after else { return nil }
        switch (move.before, move.after) {
        case ("draft", "review"):
            return nil
        case ("review", "draft") where move.changesContent:
            return nil  // An edit sends the record back (rule 1).
        case ("review", "published"), ("review", "draft"):
            let verb = move.after == "published" ? "approve" : "decline"
            guard role.seesEverything else {
                return ErrorDetail(code: .forbidden, message: "record \(id): only editors and admins \(verb) a record in review")
            }
            if policy == .two, move.byLastEditor == true {
                return ErrorDetail(
                    code: .selfReview,
                    message: "record \(id): you made its latest content change, so another editor or admin must \(verb) it (two-person review)")
            }
            return nil
        case ("published", "draft"):
            return role.seesEverything
                ? nil : ErrorDetail(code: .forbidden, message: "record \(id): only editors and admins unpublish a record")
        case ("draft", "published") where signsOff:
            return nil
        case ("draft", "published"):
            return ErrorDetail(
                code: .reviewRequired,
                message: "record \(id): a draft is published through review: submit it ('haven \(move.kind == .story ? "stories" : "resources") submit \(id)'), then another editor or admin approves it")
        default:
            return ErrorDetail(
                code: .invalidTransition,
                message: "record \(id): status cannot move from \(move.before) to \(move.after); it moves draft → review → published, review → draft, published → draft")
        }
    }

    /// The status a client writes with an edit of content, so that the edit follows rule 1:
    /// `draft` for a record in review, or published unless the writer signs off alone; nil when the
    /// status stays.
    public static func statusForEdit(of status: String?, by role: Role?, policy: ReviewPolicy) -> String? {
        switch status ?? "draft" {
        case "review": "draft"
        case "published": policy == .single && role?.seesEverything == true ? nil : "draft"
        default: nil
        }
    }

    /// The author of `record`'s latest content change: the author of the content register the
    /// log set last (largest `seq`). Rule 3 is judged against it.
    public static func lastEditor(of record: TrackedRecord) -> String? {
        record.fields.filter { isContent($0.key) }.values.max { $0.seq < $1.seq }?.author
    }

    private static func contentRefusal(_ move: Move, id: String) -> String {
        if move.written == move.after {
            return "record \(id): content and status \(move.after) cannot be written in one change, so that nothing unreviewed is published: save the edit as a draft, then submit it for review"
        }
        return "record \(id) is \(move.after == "review" ? "in review" : "published") and this edit would change its content unreviewed (it was approved or submitted after the edit was made, or the edit does not send it back to draft): the edit was not applied; sync, then edit again (an edit sends the record back to draft)"
    }
}
