/// What a record under review would change in what readers receive: field by field, the value
/// of the published version → the value now (`haven review show ID`).
///
/// The published version is the record as it was after the last change that left it
/// published (an approval, or an editor's own sign-off), replayed from the record's history;
/// a record never published is compared with nothing, so every field reads as new.
public struct ReviewDiff: Sendable, Hashable, Codable {
    /// One content field that differs.
    public struct Field: Sendable, Hashable, Codable {
        /// The field's name.
        public var name: String
        /// The published value; nil when the published version did not have the field.
        public var published: JSONValue?
        /// The value now; nil when the field was cleared.
        public var now: JSONValue?

        /// The field `name`, as published and as it is now.
        public init(name: String, published: JSONValue?, now: JSONValue?) {
            self.name = name
            self.published = published
            self.now = now
        }
    }

    /// The record's id.
    public var id: String
    /// The record's kind.
    public var kind: RecordKind
    /// The log position of the change that published the version compared with; nil when the
    /// history holds no published version.
    public var publishedSeq: Int64?
    /// The fields that differ, in name order; review state (`status`, `reviewComment`) left out.
    public var fields: [Field]
    /// Compaction removed changes received before this time (milliseconds since 1970): a field
    /// shown unset in the published version may have had a value then.
    public var compactedBefore: UInt64?

    /// The diff a record's history tells.
    public init(_ history: RecordHistory) {
        var state: [String: JSONValue] = [:]
        var published: [String: JSONValue] = [:]
        var publishedSeq: Int64?
        for entry in history.entries.reversed() {
            for field in entry.fields where field.name != "deleted" {
                state[field.name] = field.new == .null ? nil : field.new
            }
            if state["status"] == .string("published") {
                published = state
                publishedSeq = entry.seq
            }
        }
        let names = Set(state.keys).union(published.keys).filter(ReviewRule.isContent).sorted()
        self.id = history.id
        self.kind = history.kind
        self.publishedSeq = publishedSeq
        self.fields = names.compactMap { name in
            published[name] == state[name] ? nil : Field(name: name, published: published[name], now: state[name])
        }
        self.compactedBefore = history.compactedBefore
    }
}
