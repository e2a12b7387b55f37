import GRDB
import HavenCore

/// Review before publish on the replica (``ReviewRule``): status moves with their comment, each
/// one change that the server judges again when it is pushed.
extension Replica {
    /// Moves record `id` to `status` (review: submit; published: approve; draft: decline), with
    /// `comment` as its `reviewComment` (nil clears the previous one, so that an old comment does
    /// not read as this move's), and returns the record's full id.
    ///
    /// - Parameters:
    ///   - id: the record's id.
    ///   - kind: the kind the record must be; nil for either.
    ///   - status: `review`, `published` or `draft`.
    ///   - comment: the review comment; nil clears it.
    ///   - from: the status the record must have, when the move is only for it (approve
    ///     and decline take a record in review).
    /// - Throws: ``ClientError`` for a missing or deleted record, one already in `status` or not
    ///   in `from`, or a move the token's role may not make.
    @discardableResult
    public func moveStatus(
        _ id: String, kind: RecordKind? = nil, from: String? = nil, to status: String, comment: String?
    ) throws -> String {
        try database.write { db in
            let current = try loadRecord(db, matching: id, kind: kind)
            if current.isDeleted {
                throw ClientError(
                    Words(
                        "record \(current.id) is deleted: restore it first ('haven \(current.kind.commandName) restore \(current.id)')",
                        korean: "삭제된 기록입니다: \(current.id). 먼저 되살리세요 ('haven \(current.kind.commandName) restore \(current.id)')"))
            }
            let now = current.values["status"]?.stringValue ?? "draft"
            guard now != status else {
                throw ClientError(
                    Words(
                        "record \(current.id) is \(Self.describe(status)) already: nothing was changed",
                        korean: "이미 '\(status)' 상태인 기록입니다: \(current.id). 아무것도 바꾸지 않았습니다"))
            }
            if let from, now != from {
                throw ClientError(
                    Words(
                        "record \(current.id) is \(Self.describe(now)), not \(Self.describe(from)) (as last synced): nothing was changed; 'haven sync' first if it was submitted meanwhile",
                        korean: "기록이 '\(from)' 상태가 아니라 '\(now)' 상태입니다 (마지막 동기화 기준): \(current.id). 아무것도 바꾸지 않았습니다. 그사이 검토 요청이 있었다면 먼저 'haven sync'를 실행하세요"))
            }
            let values: [String: JSONValue] = ["status": .string(status), ReviewRule.commentField: comment.map(JSONValue.string) ?? .null]
            for (field, value) in values { try RecordSchema.validate(field: field, value: value, kind: current.kind) }
            try write(db, record: current) { state, stamp in
                RecordState(id: state.id, kind: state.kind, fields: values.mapValues { Register($0, stamp: stamp) })
            }
            return current.id
        }
    }

    private static func describe(_ status: String) -> String { status == "review" ? "in review" : status }

    /// The records in review, as this replica last pulled them.
    public func recordsInReview() throws -> [RecordState] {
        try records().filter { $0.values["status"] == "review" }
    }
}
