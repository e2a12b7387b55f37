import HavenCore
import PropertyBased
import Testing

/// Review before publish (``ReviewRule``) as a table: every status move, by every role, under
/// both policies, and edits of records in review or published.
struct ReviewRuleTests {
    private static let id = "abcd1111-0000-4000-8000-000000000001"

    private static func move(
        _ before: String, _ after: String, content: Bool = false, written: String? = nil, lastEditor: Bool? = false
    ) -> ReviewRule.Move {
        ReviewRule.Move(
            kind: .story, before: before, after: after, changesContent: content, written: written ?? (before == after ? nil : after),
            byLastEditor: lastEditor)
    }

    /// A move, who makes it, under which policy, and the code of its refusal (nil: allowed).
    static let table: [(move: ReviewRule.Move, role: Role, policy: ReviewPolicy, refusal: ErrorCode?)] = [
        // Submit: field staff and editors.
        (move("draft", "review"), .field, .two, nil),
        (move("draft", "review"), .editor, .two, nil),
        // Approve and decline: editors and admins who did not make the latest content change.
        (move("review", "published"), .editor, .two, nil),
        (move("review", "published"), .admin, .two, nil),
        (move("review", "published", lastEditor: true), .editor, .two, .selfReview),
        (move("review", "published", lastEditor: true), .admin, .two, .selfReview),
        (move("review", "published", lastEditor: true), .editor, .single, nil),
        (move("review", "published", lastEditor: nil), .editor, .two, nil),  // a client cannot tell: the server decides
        (move("review", "published"), .field, .two, .forbidden),
        (move("review", "published"), .field, .single, .forbidden),
        (move("review", "draft"), .editor, .two, nil),
        (move("review", "draft", lastEditor: true), .editor, .two, .selfReview),
        (move("review", "draft"), .field, .two, .forbidden),
        // An edit in review sends the record to draft, whoever may edit it.
        (move("review", "draft", content: true, lastEditor: true), .field, .two, nil),
        (move("review", "draft", content: true, lastEditor: true), .editor, .two, nil),
        // Nothing unreviewed is published.
        (move("review", "review", content: true), .editor, .two, .reviewRequired),
        (move("review", "review", content: true), .editor, .single, .reviewRequired),
        (move("published", "published", content: true), .editor, .two, .reviewRequired),
        (move("published", "published", content: true), .editor, .single, nil),
        (move("published", "published", content: true, written: "draft"), .editor, .two, .reviewRequired),
        (move("draft", "published", content: true), .editor, .two, .reviewRequired),
        (move("draft", "published", content: true), .editor, .single, nil),
        (move("draft", "published", content: true), .field, .single, .reviewRequired),
        (move("draft", "review", content: true), .editor, .two, .reviewRequired),
        (move("draft", "published"), .editor, .two, .reviewRequired),
        (move("draft", "published"), .admin, .single, nil),
        // Unpublish: editors and admins.
        (move("published", "draft"), .editor, .two, nil),
        (move("published", "draft", content: true), .editor, .two, nil),
        (move("published", "draft"), .field, .two, .forbidden),
        // Nothing else.
        (move("published", "review"), .editor, .two, .invalidTransition),
        (move("published", "review"), .admin, .single, .invalidTransition),
        (move("draft", "draft", content: true), .field, .two, nil),
    ]

    @Test(arguments: table.indices)
    func decidesAsTheTableSays(_ index: Int) {
        let row = Self.table[index]
        let refusal = ReviewRule.refusal(of: row.move, id: Self.id, by: row.role, policy: row.policy)
        #expect(refusal?.code == row.refusal, "\(row)")
        #expect(refusal.map { $0.message.contains(Self.id) } ?? true)
    }

    @Test func selfApprovalNamesTheRule() {
        let refusal = ReviewRule.refusal(
            of: Self.move("review", "published", lastEditor: true), id: Self.id, by: .editor, policy: .two)
        #expect(
            refusal?.message
                == "record \(Self.id): you made its latest content change, so another editor or admin must approve it (two-person review)")
    }

    /// What a client writes with an edit of content: draft unless the record stays as it is.
    static let editStatuses: [(status: String?, role: Role?, policy: ReviewPolicy, written: String?)] = [
        (nil, .field, .two, nil), ("draft", .editor, .two, nil),
        ("review", .field, .two, "draft"), ("review", .editor, .single, "draft"), ("review", nil, .two, "draft"),
        ("published", .editor, .two, "draft"), ("published", .editor, .single, nil), ("published", nil, .single, "draft"),
    ]

    @Test(arguments: editStatuses.indices)
    func anEditWritesDraftWhereItMust(_ index: Int) {
        let row = Self.editStatuses[index]
        #expect(ReviewRule.statusForEdit(of: row.status, by: row.role, policy: row.policy) == row.written)
    }

    /// The offline race of DESIGN §3 with review: an editor approves while a field worker's
    /// edit, made earlier (a smaller stamp) and carrying status draft, is still on its way.
    @Test func anEditThatLosesTheStatusToAnApprovalIsRefused() {
        // Given a story in review, submitted at 200
        let field = ReplicaID("f1")!
        let editor = ReplicaID("e1")!
        let stamp = { (time: UInt64, replica: ReplicaID) in Timestamp(physical: time, counter: 0, replica: replica) }
        let story = RecordState(
            id: Self.id, kind: .story,
            fields: [
                "title": Register("T", stamp: stamp(100, field)), "body": Register("B", stamp: stamp(100, field)),
                "language": Register("en", stamp: stamp(100, field)), "status": Register("review", stamp: stamp(200, field)),
            ])
        let edit = RecordState(
            id: Self.id, kind: .story,
            fields: ["body": Register("Unreviewed", stamp: stamp(300, field)), "status": Register("draft", stamp: stamp(300, field))])
        let approval = RecordState(id: Self.id, kind: .story, fields: ["status": Register("published", stamp: stamp(400, editor))])

        // When the approval (stamp 400) arrives first, then the edit (stamp 300)
        let approved = story.merged(with: approval)
        let move = ReviewRule.Move(of: edit, existing: approved, byLastEditor: true)

        // Then the edit would leave the record published with its body: refused
        #expect(move.after == "published" && move.changesContent)
        #expect(ReviewRule.refusal(of: move, id: Self.id, by: .field, policy: .two)?.code == .reviewRequired)
        // And in the other order the approval, which wins the status, would publish the draft the
        // edit made, a version its approver never saw: refused too
        let edited = story.merged(with: edit)
        let late = ReviewRule.Move(of: approval, existing: edited, byLastEditor: false)
        #expect(late.before == "draft" && late.after == "published")
        #expect(ReviewRule.refusal(of: late, id: Self.id, by: .editor, policy: .two)?.code == .reviewRequired)
    }

    @Test func theLastEditorIsTheAuthorOfTheLatestContentChange() {
        var record = TrackedRecord(id: Self.id, kind: .story)
        let stamp = { (time: UInt64) in Timestamp(physical: time, counter: 0, replica: ReplicaID("a1")!) }
        _ = record.apply(
            RecordState(id: Self.id, kind: .story, fields: ["title": Register("T", stamp: stamp(1))]), seq: 1, author: "amina",
            seen: 0)
        _ = record.apply(
            RecordState(id: Self.id, kind: .story, fields: ["body": Register("B", stamp: stamp(2))]), seq: 2, author: "minji",
            seen: 1)
        _ = record.apply(
            RecordState(
                id: Self.id, kind: .story,
                fields: ["status": Register("review", stamp: stamp(3)), "reviewComment": Register("ok?", stamp: stamp(3))]),
            seq: 3, author: "amina", seen: 2)
        // Status moves and comments are not content: minji made the latest content change
        #expect(ReviewRule.lastEditor(of: record) == "minji")
    }

    /// A register of one of a few fields, values and stamps, so that changes often tie or lose.
    private static let register = zip(
        Gen.element(of: ["status", "title", "body", "tags", "reviewComment", "region"]),
        Gen.element(of: [JSONValue.null, "draft", "review", "published", "a", "b"]), Gen.int(in: 1...3)
    ).map { name, value, time in (name!, Register(value!, stamp: stamp(UInt64(time), 0, "r1"))) }

    private static func state(_ registers: [(String, Register)]) -> RecordState {
        RecordState(id: id, kind: .story, fields: Dictionary(registers, uniquingKeysWith: { first, _ in first }))
    }

    @Test func aMoveIsWhatMergingTheWholeRecordWouldMake() async {
        await propertyCheck(count: 500, input: Self.register.array(of: 0...6), Self.register.array(of: 1...4), Gen.bool) {
            existing, written, creation in
            // Given a record (or none) and a change to it
            let before = creation ? nil : Self.state(existing)
            let change = Self.state(written)
            let move = ReviewRule.Move(of: change, existing: before, byLastEditor: nil)
            // Then the move is the one the whole merged record shows
            let old = before ?? RecordState(id: Self.id, kind: .story)
            let new = old.merged(with: change)
            let content = { (state: RecordState) in state.values.filter { ReviewRule.isContent($0.key) } }
            #expect(move.before == old.values["status"]?.stringValue ?? "draft")
            #expect(move.after == new.values["status"]?.stringValue ?? "draft")
            #expect(move.changesContent == (content(old) != content(new)))
        }
    }
}
