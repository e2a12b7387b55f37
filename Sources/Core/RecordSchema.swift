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
                "hours", "verifiedAt", "status", "media", "reviewComment",
            ]
        }
    }

    /// The values of `status`, in the order review moves a record.
    public static let statuses = ["draft", "review", "published"]
    /// The values of a story's `sensitivity`: restricted stories reach only editors, admins and their author.
    public static let sensitivities = ["public", "restricted"]
    /// The values of a resource's `category`.
    public static let categories = [
        "hotline", "shelter", "legal", "counselling", "medical", "education", "employment", "resettlement", "other",
    ]

    /// Checks a whole record: every required field present and every value well formed.
    ///
    /// - Throws: ``ValidationError`` naming the first field at fault.
    public static func validate(_ values: [String: JSONValue], kind: RecordKind) throws(ValidationError) {
        if let field = firstMissing(kind, { values[$0] }) { throw .missing(field, kind: kind) }
        for (field, value) in values.sorted(by: { $0.key < $1.key }) {
            try validate(field: field, value: value, kind: kind)
        }
    }

    /// Checks only that every required field of `record` is there and not null: for a record
    /// whose registers were each checked already (``validateRegisters(of:)``), where
    /// ``validate(_:kind:)`` would check every value a second time.
    ///
    /// - Throws: ``ValidationError`` naming the first required field missing.
    public static func validateRequired(of record: RecordState) throws(ValidationError) {
        if let field = firstMissing(record.kind, { record.fields[$0]?.value }) { throw .missing(field, kind: record.kind) }
    }

    /// The first required field of `kind` that `value` gives no value but null for.
    private static func firstMissing(_ kind: RecordKind, _ value: (String) -> JSONValue?) -> String? {
        requiredFields(of: kind).first { (value($0) ?? .null) == .null }
    }

    /// Checks the registers a change or a pulled delta carries, each on its own: the record id,
    /// the `deleted` flag, every field. Whether the required fields are all there is a question
    /// for the whole record (``validate(_:kind:)``).
    ///
    /// - Throws: ``ValidationError`` naming the id or the field at fault.
    public static func validateRegisters(of record: RecordState) throws(ValidationError) {
        guard RecordID.isValid(record.id) else {
            throw ValidationError(
                field: nil, code: .invalidRecord,
                words: Words("id: not a lowercase UUID", korean: "id: 소문자 UUID가 아닙니다"))
        }
        if let flag = record.deleted, flag.value != .bool(true), flag.value != .bool(false) {
            throw .invalid("deleted", Words("must be true or false", korean: "true나 false여야 합니다"))
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
            throw .invalid(
                field,
                Words(
                    "not a valid field name (letters, digits and _, starting with a letter, at most 64)",
                    korean: "올바른 필드 이름이 아닙니다 (글자, 숫자, _로 64자까지, 글자로 시작)"))
        }
        if value == .null {
            if requiredFields(of: kind).contains(field) { throw .invalid(field, Words("required, cannot be cleared", korean: "꼭 있어야 하는 필드라 비울 수 없습니다")) }
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
                isLanguageTag(tag)
                    ? nil
                    : Words(
                        "each entry must be a BCP 47 language tag such as en or ko",
                        korean: "각 항목은 en이나 ko 같은 BCP 47 언어 태그여야 합니다")
            }
        case (.story, "tags"):
            try list(field, value, limit) { tag in
                (1...50).contains(tag.count)
                    ? nil : Words("each tag must have 1 to 50 characters", korean: "각 태그는 1글자에서 50글자까지여야 합니다")
            }
        case (_, "media"):
            try media(field, value, limit)
        case (_, "status"):
            try oneOf(field, value, statuses)
        case (.story, "sensitivity"):
            try oneOf(field, value, sensitivities)
        case (.resource, "category"):
            try oneOf(field, value, categories)
        case (.resource, "country"):
            let code = try text(field, value, limit, nonEmpty: true)
            guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw .invalid(
                    field,
                    Words(
                        "must be a two-letter upper-case ISO 3166 code such as KR",
                        korean: "KR 같은 대문자 두 글자 ISO 3166 코드여야 합니다"))
            }
        case (.resource, "phone"):
            let phone = try text(field, value, limit, nonEmpty: true)
            guard phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+-() ".contains($0)) }),
                phone.contains(where: \.isNumber)
            else {
                throw .invalid(
                    field, Words("may hold only digits, spaces and + - ( )", korean: "숫자, 공백, + - ( )만 쓸 수 있습니다"))
            }
        case (.resource, "url"):
            let url = try text(field, value, limit, nonEmpty: true)
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains(" ") else {
                throw .invalid(
                    field,
                    Words(
                        "must be an http:// or https:// address without spaces",
                        korean: "공백 없는 http:// 또는 https:// 주소여야 합니다"))
            }
        case (.resource, "verifiedAt"):
            let date = try text(field, value, limit, nonEmpty: true)
            guard isDate(date) else {
                throw .invalid(field, Words("must be a date written YYYY-MM-DD", korean: "YYYY-MM-DD 형식의 날짜여야 합니다"))
            }
        default:
            break  // An unknown field: kept and synced as it is.
        }
    }

    /// Field names: a letter, then letters, digits or underscores, 64 at most.
    public static func isValidFieldName(_ name: String) -> Bool {
        // Byte by byte: every character allowed is one ASCII byte, so bytes are characters.
        func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        let bytes = name.utf8
        guard let first = bytes.first, isLetter(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy { isLetter($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") }
    }

    /// A BCP 47 language tag in its common form: `en`, `ko`, `zh-Hant`, `en-GB`.
    public static func isLanguageTag(_ tag: String) -> Bool {
        // Byte by byte, as field names: every character allowed is one ASCII byte.
        func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        let parts = tag.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count), primary.allSatisfy(isLetter) else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.count) && part.allSatisfy { isLetter($0) || (0x30...0x39).contains($0) }
        }
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
        guard let string = value.stringValue else { throw .invalid(field, Words("must be text", korean: "텍스트여야 합니다")) }
        if nonEmpty && string.allSatisfy(\.isWhitespace) {
            throw .invalid(field, Words("must not be empty", korean: "비어 있으면 안 됩니다"))
        }
        // A character is at least one UTF-8 byte: within `max` bytes needs no character count.
        if string.utf8.count > max, string.count > max {
            throw .invalid(
                field,
                Words(
                    "must be at most \(max) characters (has \(string.count))",
                    korean: "\(max)글자까지 쓸 수 있습니다 (지금 \(string.count)글자)"))
        }
        return string
    }

    private static func languageTag(_ field: String, _ value: JSONValue, _ limit: FieldLimit?)
        throws(ValidationError)
    {
        let tag = try text(field, value, limit, nonEmpty: true)
        guard isLanguageTag(tag) else {
            throw .invalid(
                field,
                Words("must be a BCP 47 language tag such as en or ko", korean: "en이나 ko 같은 BCP 47 언어 태그여야 합니다"))
        }
    }

    private static func oneOf(_ field: String, _ value: JSONValue, _ allowed: [String]) throws(ValidationError) {
        guard let string = value.stringValue, allowed.contains(string) else {
            let choices = allowed.joined(separator: ", ")
            throw .invalid(field, Words("must be one of \(choices)", korean: "다음 중 하나여야 합니다: \(choices)"))
        }
    }

    /// A `media` field: a list of ``MediaReference``s with distinct names.
    private static func media(_ field: String, _ value: JSONValue, _ limit: FieldLimit?) throws(ValidationError) {
        guard case .array(let items) = value else {
            throw .invalid(field, Words("must be a list of files", korean: "파일 목록이어야 합니다"))
        }
        let max = limit?.entries ?? Int.max
        if items.count > max {
            throw .invalid(
                field,
                Words("must have at most \(max) files (has \(items.count))", korean: "파일은 \(max)개까지입니다 (지금 \(items.count)개)"))
        }
        var names: Set<String> = []
        for item in items {
            let reference: MediaReference
            do {
                reference = try MediaReference.reference(from: item)
            } catch {
                throw .invalid(field, error.words)
            }
            guard names.insert(reference.name).inserted else {
                throw .invalid(field, Words("two files are named the same", korean: "이름이 같은 파일이 둘 있습니다"))
            }
        }
    }

    private static func list(
        _ field: String, _ value: JSONValue, _ limit: FieldLimit?, check: (String) -> Words?
    ) throws(ValidationError) {
        let max = limit?.entries ?? Int.max
        guard let items = value.stringArrayValue else {
            throw .invalid(field, Words("must be a list of text", korean: "텍스트 목록이어야 합니다"))
        }
        if items.count > max {
            throw .invalid(
                field,
                Words(
                    "must have at most \(max) entries (has \(items.count))",
                    korean: "항목은 \(max)개까지입니다 (지금 \(items.count)개)"))
        }
        for item in items {
            if let problem = check(item) { throw .invalid(field, problem) }
        }
    }
}
