extension RecordSchema {
    /// How long one field's value may be, as the schema counts it: text in characters (what a
    /// person sees as one, a Swift `Character`), lists in entries.
    public struct FieldLimit: Sendable, Hashable, Codable {
        /// Most characters of a text field.
        public var characters: Int?
        /// Most entries of a list field.
        public var entries: Int?

        /// A limit of `characters` for a text field, or of `entries` for a list field.
        public init(characters: Int? = nil, entries: Int? = nil) {
            self.characters = characters
            self.entries = entries
        }
    }

    /// The length limits of the fields of `kind`, the one table ``validate(field:value:kind:)``
    /// checks and `GET /v1/me` states.
    public static func fieldLimits(of kind: RecordKind) -> [String: FieldLimit] {
        switch kind {
        case .story: storyLimits
        case .resource: resourceLimits
        }
    }

    // Built once: every field of every record validated looks its limit up.
    private static let storyLimits: [String: FieldLimit] = [
        "title": FieldLimit(characters: 200), "summary": FieldLimit(characters: 1_000),
        "body": FieldLimit(characters: 100_000), "language": FieldLimit(characters: 35),
        "tags": FieldLimit(entries: 32), "author": FieldLimit(characters: 100),
        "region": FieldLimit(characters: 100), "media": FieldLimit(entries: 32),
        "reviewComment": FieldLimit(characters: 2_000),
    ]

    private static let resourceLimits: [String: FieldLimit] = [
        "name": FieldLimit(characters: 200), "description": FieldLimit(characters: 20_000),
        "country": FieldLimit(characters: 100), "region": FieldLimit(characters: 100),
        "address": FieldLimit(characters: 500), "phone": FieldLimit(characters: 32),
        "url": FieldLimit(characters: 2_000), "languages": FieldLimit(entries: 32),
        "hours": FieldLimit(characters: 500), "verifiedAt": FieldLimit(characters: 40),
        "media": FieldLimit(entries: 32), "reviewComment": FieldLimit(characters: 2_000),
    ]

    /// The limit of one field, nil when it has none (an enumerated or unknown field).
    public static func fieldLimit(_ field: String, kind: RecordKind) -> FieldLimit? {
        fieldLimits(of: kind)[field]
    }
}
