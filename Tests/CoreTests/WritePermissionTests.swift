import HavenCore
import Testing
import TestSupport

/// The role rules for writes (DESIGN §4), as the server enforces them and a client checks them
/// before saving.
struct WritePermissionTests {
    private static let id = "abcd1111-0000-4000-8000-000000000001"
    private static let stamp = Timestamp(physical: 1_000, counter: 0, replica: ReplicaID("a1")!)

    private static func change(_ fields: [String: JSONValue], kind: RecordKind = .story, deleted: Bool? = nil)
        -> RecordState
    {
        RecordState(
            id: id, kind: kind, fields: fields.mapValues { Register($0, stamp: stamp) },
            deleted: deleted.map { Register(.bool($0), stamp: stamp) })
    }

    /// A write, the record it goes to (nil: a creation), and the words of its refusal (nil: allowed).
    static let table: [(role: Role, change: RecordState, existing: WritePermission.Existing?, refusal: String?)] = [
        (.editor, change(["name": "N"], kind: .resource), nil, nil),
        (.admin, change(["status": "published"]), .init(status: "draft", isOwn: false), nil),
        (.reader, change(["title": "T"]), nil, "a reader token cannot change records"),
        (.field, change(["title": "T"]), nil, nil),
        (.field, change(["name": "N"], kind: .resource), nil, "field staff cannot change resources"),
        (.field, change(["status": "published"]), .init(status: "draft", isOwn: true), "status: field staff cannot publish"),
        (.field, change(["title": "T"]), .init(status: "published", isOwn: true),
         "record \(id): published stories can be edited by editors only"),
        (.field, change(["title": "T"]), .init(status: "published", isOwn: false),
         "record \(id): published stories can be edited by editors only"),
        (.field, change(["title": "T"]), .init(status: nil, isOwn: false),
         "record \(id): field staff can edit only their own stories"),
        (.field, change(["title": "T"]), .init(status: "review", isOwn: true), nil),
        (.field, change([:], deleted: false), .init(status: "draft", isOwn: true, deletedByOther: true),
         "record \(id) was deleted by an editor: only an editor can restore it"),
    ]

    @Test(arguments: table.indices)
    func decidesAsTheTableSays(_ index: Int) {
        let row = Self.table[index]
        let refusal =
            WritePermission.refusal(of: row.change, by: row.role)
            ?? row.existing.flatMap { WritePermission.editRefusal(of: row.change, by: row.role, existing: $0) }
        #expect(refusal?.detail.message == row.refusal)
        #expect(refusal.map { $0.detail.code == .forbidden } ?? true)
        // The client says each refusal in Korean too; the server's detail stays English.
        #expect(refusal.map { hasHangul($0.words.korean) && !hasHangul($0.detail.message) } ?? true)
    }

    @Test func theFieldLimitsTableIsWhatValidationChecks() throws {
        // Every text limit in the table is the one validation enforces, character by character
        for kind in RecordKind.allCases {
            for (field, limit) in RecordSchema.fieldLimits(of: kind) {
                guard let characters = limit.characters, !["language", "country", "phone", "url", "verifiedAt"].contains(field)
                else { continue }
                let longest = JSONValue.string(String(repeating: "탈", count: characters))
                let tooLong = JSONValue.string(String(repeating: "탈", count: characters + 1))
                #expect(throws: Never.self) { try RecordSchema.validate(field: field, value: longest, kind: kind) }
                #expect(throws: ValidationError.self) { try RecordSchema.validate(field: field, value: tooLong, kind: kind) }
            }
        }
        #expect(ServerLimits().fields["story"]?["body"] == RecordSchema.FieldLimit(characters: 100_000))
    }
}
