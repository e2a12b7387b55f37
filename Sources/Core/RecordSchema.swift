/// The fields of stories and resources and the rules their values follow (DESIGN §1).
///
/// Known fields are checked by type and form; unknown fields are accepted under any name made of
/// letters, digits and underscores, so that a newer app version can add fields that older
/// replicas keep and sync untouched.
public enum RecordSchema {
    /// The fields a record of `kind` must have.
    public static func requiredFields(of kind: RecordKind) -> [String] {
        switch kind {
        case .story: ["title", "body", "language"]
        case .resource: ["name", "category", "country"]
        }
    }

    /// The fields this version knows for `kind`, in the order a person reads them.
    public static func knownFields(of kind: RecordKind) -> [String] {
        switch kind {
        case .story:
            [
                "title", "summary", "body", "language", "tags", "author", "region", "status", "sensitivity", "media",
                "reviewComment",
            ]
        case .resource:
            [
                "name", "category", "description", "country", "region", "address", "phone", "url", "languages",
                "hours", "verifiedAt", "status", "reviewComment",
            ]
        }
    }

    public static let statuses = ["draft", "review", "published"]
    public static let sensitivities = ["public", "restricted"]
    public static let categories = [
        "hotline", "shelter", "legal", "counselling", "medical", "education", "employment", "resettlement", "other",
    ]

    /// Checks a whole record: every required field present and every value well formed.
    ///
    /// - Throws: ``ValidationError`` naming the first field at fault.
    public static func validate(_ values: [String: JSONValue], kind: RecordKind) throws(ValidationError) {
        for field in requiredFields(of: kind) where values[field] == nil || values[field] == .null {
            throw .missing(field, kind: kind)
        }
        for (field, value) in values.sorted(by: { $0.key < $1.key }) {
            try validate(field: field, value: value, kind: kind)
        }
    }

    /// Checks the registers a change or a pulled delta carries, each on its own: the record id,
    /// the `deleted` flag, every field. Whether the required fields are all there is a question
    /// for the whole record (``validate(_:kind:)``).
    ///
    /// - Throws: ``ValidationError`` naming the id or the field at fault.
    public static func validateRegisters(of record: RecordState) throws(ValidationError) {
        guard RecordID.isValid(record.id) else {
            throw ValidationError(field: nil, code: .invalidRecord, message: "id: not a lowercase UUID")
        }
        if let flag = record.deleted, flag.value != .bool(true), flag.value != .bool(false) {
            throw .invalid("deleted", "must be true or false")
        }
        for (field, register) in record.fields.sorted(by: { $0.key < $1.key }) {
            try validate(field: field, value: register.value, kind: record.kind)
        }
    }

    /// Checks one field's value. `null` clears an optional field.
    ///
    /// - Throws: ``ValidationError`` naming the field and what is wrong.
    public static func validate(field: String, value: JSONValue, kind: RecordKind) throws(ValidationError) {
        guard isValidFieldName(field) else {
            throw .invalid(field, "not a valid field name (letters, digits and _, starting with a letter, at most 64)")
        }
        if value == .null {
            if requiredFields(of: kind).contains(field) { throw .invalid(field, "required, cannot be cleared") }
            return
        }
        let limit = fieldLimit(field, kind: kind)
        switch (kind, field) {
        case (.story, "title"), (.resource, "name"), (.story, "body"):
            try text(field, value, limit, nonEmpty: true)
        case (.story, "summary"), (.resource, "description"), (.story, "author"), (_, "region"), (_, "reviewComment"),
            (.resource, "address"), (.resource, "hours"):
            try text(field, value, limit)
        case (.story, "language"):
            try languageTag(field, value, limit)
        case (.resource, "languages"):
            try list(field, value, limit) { tag in
                isLanguageTag(tag) ? nil : "each entry must be a BCP 47 language tag such as en or ko"
            }
        case (.story, "tags"):
            try list(field, value, limit) { tag in
                (1...50).contains(tag.count) ? nil : "each tag must have 1 to 50 characters"
            }
        case (.story, "media"):
            try list(field, value, limit) { ref in
                isMediaReference(ref) ? nil : "each reference must be 'sha256:' and 64 hex digits"
            }
        case (_, "status"):
            try oneOf(field, value, statuses)
        case (.story, "sensitivity"):
            try oneOf(field, value, sensitivities)
        case (.resource, "category"):
            try oneOf(field, value, categories)
        case (.resource, "country"):
            let code = try text(field, value, limit, nonEmpty: true)
            guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw .invalid(field, "must be a two-letter upper-case ISO 3166 code such as KR")
            }
        case (.resource, "phone"):
            let phone = try text(field, value, limit, nonEmpty: true)
            guard phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+-() ".contains($0)) }),
                phone.contains(where: \.isNumber)
            else { throw .invalid(field, "may hold only digits, spaces and + - ( )") }
        case (.resource, "url"):
            let url = try text(field, value, limit, nonEmpty: true)
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains(" ") else {
                throw .invalid(field, "must be an http:// or https:// address without spaces")
            }
        case (.resource, "verifiedAt"):
            let date = try text(field, value, limit, nonEmpty: true)
            guard isDate(date) else { throw .invalid(field, "must be a date written YYYY-MM-DD") }
        default:
            break  // An unknown field: kept and synced as it is.
        }
    }

    /// Field names: a letter, then letters, digits or underscores, 64 at most.
    public static func isValidFieldName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 64 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// A BCP 47 language tag in its common form: `en`, `ko`, `zh-Hant`, `en-GB`.
    public static func isLanguageTag(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count),
            primary.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }

    private static func isMediaReference(_ ref: String) -> Bool {
        ref.hasPrefix("sha256:") && ref.count == 71 && ref.dropFirst(7).allSatisfy(\.isLowercaseHexDigit)
    }

    private static func isDate(_ text: String) -> Bool {
        let parts = text.prefix(10).split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.map(\.count) == [4, 2, 2],
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let month = Int(parts[1]), let day = Int(parts[2])
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    @discardableResult
    private static func text(_ field: String, _ value: JSONValue, _ limit: FieldLimit?, nonEmpty: Bool = false)
        throws(ValidationError) -> String
    {
        let max = limit?.characters ?? Int.max
        guard let string = value.stringValue else { throw .invalid(field, "must be text") }
        if nonEmpty && string.allSatisfy(\.isWhitespace) { throw .invalid(field, "must not be empty") }
        // A character is at least one UTF-8 byte: within `max` bytes needs no character count.
        if string.utf8.count > max, string.count > max { throw .invalid(field, "must be at most \(max) characters (has \(string.count))") }
        return string
    }

    private static func languageTag(_ field: String, _ value: JSONValue, _ limit: FieldLimit?)
        throws(ValidationError)
    {
        let tag = try text(field, value, limit, nonEmpty: true)
        guard isLanguageTag(tag) else { throw .invalid(field, "must be a BCP 47 language tag such as en or ko") }
    }

    private static func oneOf(_ field: String, _ value: JSONValue, _ allowed: [String]) throws(ValidationError) {
        guard let string = value.stringValue, allowed.contains(string) else {
            throw .invalid(field, "must be one of \(allowed.joined(separator: ", "))")
        }
    }

    private static func list(
        _ field: String, _ value: JSONValue, _ limit: FieldLimit?, check: (String) -> String?
    ) throws(ValidationError) {
        let max = limit?.entries ?? Int.max
        guard let items = value.stringArrayValue else { throw .invalid(field, "must be a list of text") }
        if items.count > max { throw .invalid(field, "must have at most \(max) entries (has \(items.count))") }
        for item in items {
            if let problem = check(item) { throw .invalid(field, problem) }
        }
    }
}
