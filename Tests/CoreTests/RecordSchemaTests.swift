import HavenCore
import Testing

struct RecordSchemaTests {
    /// A record of `kind` holding every required field with a good value.
    static func makeValid(_ kind: RecordKind) -> [String: JSONValue] {
        switch kind {
        case .story: ["title": "Crossing the Tumen", "body": "What happened next.", "language": "en"]
        case .resource: ["name": "Hana Centre", "category": "resettlement", "country": "KR"]
        }
    }

    /// One row of a rule table: a field of a kind of record and a value for it.
    struct Case: Sendable, CustomTestStringConvertible {
        var kind: RecordKind
        var field: String
        var value: JSONValue

        init(_ kind: RecordKind, _ field: String, _ value: JSONValue) {
            self.kind = kind
            self.field = field
            self.value = value
        }

        var testDescription: String { "\(kind).\(field) = \(value)" }
    }

    static let required: [Case] = RecordKind.allCases.flatMap { kind in
        RecordSchema.requiredFields(of: kind).map { Case(kind, $0, .null) }
    }

    static let optional: [Case] = RecordKind.allCases.flatMap { kind in
        RecordSchema.knownFields(of: kind).filter { !RecordSchema.requiredFields(of: kind).contains($0) }
            .map { Case(kind, $0, .null) }
    }

    static let badValues: [Case] = [
        Case(.story, "language", "english"),
        Case(.story, "language", ""),
        Case(.story, "language", .int(1)),
        Case(.resource, "country", "kr"),
        Case(.resource, "country", "KOR"),
        Case(.resource, "country", "K"),
        Case(.resource, "category", "food"),
        Case(.story, "status", "live"),
        Case(.resource, "status", "live"),
        Case(.story, "sensitivity", "secret"),
        Case(.story, "tags", "not a list"),
        Case(.story, "tags", [1, 2]),
        Case(.story, "tags", [""]),
        Case(.story, "tags", .array(Array(repeating: "t", count: 33))),
        Case(.story, "media", ["sha256:abc"]),
        Case(.story, "media", .array([.string("sha256:" + String(repeating: "ab", count: 32))])),
        Case(.story, "media", .array([media(type: "application/x-msdownload")])),
        Case(.story, "media", .array([media(size: 0)])),
        Case(.story, "media", .array([media(size: .int(MediaReference.maxSize + 1))])),
        Case(.story, "media", .array([media(name: "../../etc/passwd")])),
        Case(.story, "media", .array([media(name: .string(String(repeating: "x", count: 201)))])),
        Case(.story, "media", .array([media(id: "AB")])),
        Case(.story, "media", .array([media(), media()])),
        Case(.resource, "media", .array(Array(repeating: media(), count: 33))),
        Case(.resource, "languages", "ko"),
        Case(.resource, "languages", ["english"]),
        Case(.resource, "url", "ftp://x"),
        Case(.resource, "url", "https://example.org/a b"),
        Case(.resource, "verifiedAt", "2024-13-01"),
        Case(.resource, "verifiedAt", "2024-01-32"),
        Case(.resource, "verifiedAt", "2024-1-01"),
        Case(.resource, "verifiedAt", "01-01-2024"),
        Case(.resource, "verifiedAt", "2024-01-01T10:00"),
        Case(.resource, "verifiedAt", "\u{FF12}\u{FF10}\u{FF12}\u{FF14}-01-01"),  // full-width digits
        Case(.resource, "phone", "abc"),
        Case(.resource, "phone", "+-() "),
        Case(.resource, "phone", "\u{FF11}\u{FF12}\u{FF13}"),
        Case(.story, "title", ""),
        Case(.story, "title", "   "),
        Case(.story, "title", .string(String(repeating: "x", count: 201))),
        Case(.story, "title", .int(5)),
        Case(.story, "body", .bool(true)),
        Case(.story, "summary", .string(String(repeating: "x", count: 1_001))),
        Case(.story, "region", .array(["Seoul"])),
        Case(.resource, "name", .object(["en": "x"])),
        Case(.resource, "hours", .string(String(repeating: "x", count: 501))),
    ]

    static let goodValues: [Case] = [
        Case(.story, "language", "ko"),
        Case(.story, "language", "zh-Hant"),
        Case(.story, "language", "en-GB"),
        Case(.story, "tags", []),
        Case(.story, "tags", ["routes", "china"]),
        Case(.story, "status", "published"),
        Case(.story, "sensitivity", "restricted"),
        Case(.story, "media", .array([media(), media(name: "map.png")])),
        Case(.resource, "media", .array([media(name: "지도.jpg")])),
        Case(.story, "title", .string(String(repeating: "x", count: 200))),
        Case(.story, "summary", ""),
        Case(.resource, "country", "CN"),
        Case(.resource, "category", "counselling"),
        Case(.resource, "languages", ["ko", "en"]),
        Case(.resource, "url", "http://x"),
        Case(.resource, "url", "https://www.unikorea.go.kr/eng_unikorea/"),
        Case(.resource, "verifiedAt", "2024-02-29"),
        Case(.resource, "phone", "+82 (2) 123-4567"),
        Case(.resource, "phone", "1577-1366"),
        Case(.resource, "status", "draft"),
    ]

    @Test func validRecordsPass() throws {
        for kind in RecordKind.allCases {
            try RecordSchema.validate(Self.makeValid(kind), kind: kind)
        }
    }

    @Test(arguments: required)
    func missingRequiredFieldIsNamed(_ row: Case) {
        // Given a valid record without one required field
        var values = Self.makeValid(row.kind)
        values[row.field] = nil

        // When / Then
        let error = #expect(throws: ValidationError.self) { try RecordSchema.validate(values, kind: row.kind) }
        #expect(error?.code == .missingField && error?.field == row.field)
        #expect(error?.message == "\(row.field): required for a \(row.kind), but missing")
    }

    @Test(arguments: required)
    func nullRequiredFieldCountsAsMissing(_ row: Case) {
        var values = Self.makeValid(row.kind)
        values[row.field] = .null

        let error = #expect(throws: ValidationError.self) { try RecordSchema.validate(values, kind: row.kind) }
        #expect(error?.code == .missingField)
        #expect(error?.field == row.field)
    }

    @Test(arguments: required)
    func nullCannotClearARequiredField(_ row: Case) {
        let error = #expect(throws: ValidationError.self) {
            try RecordSchema.validate(field: row.field, value: .null, kind: row.kind)
        }
        #expect(error?.code == .invalidField && error?.field == row.field)
        #expect(error?.message == "\(row.field): required, cannot be cleared")
    }

    @Test(arguments: optional)
    func nullClearsAnOptionalField(_ row: Case) throws {
        try RecordSchema.validate(field: row.field, value: .null, kind: row.kind)

        var values = Self.makeValid(row.kind)
        values[row.field] = .null
        try RecordSchema.validate(values, kind: row.kind)
    }

    @Test(arguments: badValues)
    func badValueIsRefusedNamingTheField(_ row: Case) {
        // Given a valid record with one bad value
        var values = Self.makeValid(row.kind)
        values[row.field] = row.value

        // When
        let single = #expect(throws: ValidationError.self) {
            try RecordSchema.validate(field: row.field, value: row.value, kind: row.kind)
        }
        let whole = #expect(throws: ValidationError.self) { try RecordSchema.validate(values, kind: row.kind) }

        // Then the message starts with the field's name and the whole-record check agrees
        #expect(single?.code == .invalidField)
        #expect(single?.field == row.field)
        #expect(single?.message.hasPrefix("\(row.field): ") == true)
        #expect(single?.description == single?.message)
        #expect(whole == single)
    }

    @Test(arguments: goodValues)
    func goodValueIsAccepted(_ row: Case) throws {
        var values = Self.makeValid(row.kind)
        values[row.field] = row.value

        try RecordSchema.validate(field: row.field, value: row.value, kind: row.kind)
        try RecordSchema.validate(values, kind: row.kind)
    }

    @Test(arguments: [
        (Case(.resource, "country", "kr"), "country: must be a two-letter upper-case ISO 3166 code such as KR"),
        (
            Case(.resource, "category", "food"),
            "category: must be one of hotline, shelter, legal, counselling, medical, education, employment, resettlement, other"
        ),
        (Case(.story, "language", "english"), "language: must be a BCP 47 language tag such as en or ko"),
        (Case(.resource, "verifiedAt", "2024-13-01"), "verifiedAt: must be a date written YYYY-MM-DD"),
        (Case(.resource, "phone", "abc"), "phone: may hold only digits, spaces and + - ( )"),
        (Case(.resource, "url", "ftp://x"), "url: must be an http:// or https:// address without spaces"),
        (Case(.story, "tags", "not a list"), "tags: must be a list of text"),
        (Case(.story, "status", "live"), "status: must be one of draft, review, published"),
        (Case(.story, "title", "  "), "title: must not be empty"),
    ])
    func messageSaysWhatIsWrong(_ row: Case, message: String) {
        let error = #expect(throws: ValidationError.self) {
            try RecordSchema.validate(field: row.field, value: row.value, kind: row.kind)
        }
        #expect(error?.message == message)
    }

    @Test func messagesNeverRepeatTheBadValue() {
        // ValidationError promises that its message never repeats the value, which may be sensitive.
        for row in Self.badValues {
            guard case .string(let text) = row.value, text.count >= 3 else { continue }
            let error = #expect(throws: ValidationError.self) {
                try RecordSchema.validate(field: row.field, value: row.value, kind: row.kind)
            }
            #expect(error?.message.contains(text) == false, "\(row.testDescription)")
        }
        let error = #expect(throws: ValidationError.self) {
            try RecordSchema.validate(field: "languages", value: ["english"], kind: .resource)
        }
        #expect(error?.message.contains("english") == false)
    }

    @Test func overlongTextSaysTheLimitAndTheLength() {
        let error = #expect(throws: ValidationError.self) {
            try RecordSchema.validate(field: "title", value: .string(String(repeating: "가", count: 250)), kind: .story)
        }
        #expect(error?.code == .invalidField && error?.field == "title")
        #expect(error?.message == "title: must be at most 200 characters (has 250)")
    }

    @Test(arguments: RecordKind.allCases)
    func unknownFieldsWithValidNamesPass(_ kind: RecordKind) throws {
        // Given fields a newer app version might add, with values of any shape
        var values = Self.makeValid(kind)
        values["x_rating"] = 5
        values["reviewedBy2"] = .object(["name": "editor", "at": ["2024", .double(1.5)]])
        values["A"] = .null
        values[String(repeating: "f", count: 64)] = true

        // When / Then
        try RecordSchema.validate(values, kind: kind)
    }

    @Test(arguments: ["", "1abc", "_x", "has space", "has-dash", "x.y", "é", "이름", String(repeating: "f", count: 65)])
    func invalidFieldNamesFail(_ name: String) {
        var values = Self.makeValid(.story)
        values[name] = "value"

        let error = #expect(throws: ValidationError.self) { try RecordSchema.validate(values, kind: .story) }
        #expect(error?.code == .invalidField)
        #expect(error?.field == name)
        #expect(error?.message.hasPrefix("\(name): not a valid field name") == true)
        #expect(!RecordSchema.isValidFieldName(name))
    }

    @Test func firstFaultReportedIsAMissingFieldThenFieldsInNameOrder() {
        // Given a story without its body and with two bad values
        var values: [String: JSONValue] = ["title": "T", "language": "english", "status": "live"]

        // When / Then the missing body comes first
        #expect(throws: ValidationError.self) { try RecordSchema.validate(values, kind: .story) }
        do {
            try RecordSchema.validate(values, kind: .story)
        } catch {
            #expect(error.field == "body")
        }

        // And with the body present, "language" sorts before "status"
        values["body"] = "B"
        do {
            try RecordSchema.validate(values, kind: .story)
        } catch {
            #expect(error.field == "language")
        }
    }

    @Test(arguments: ["en", "ko", "zh", "yue", "zh-Hant", "en-GB", "sr-Latn-RS", "de-CH-1996"])
    func acceptsCommonLanguageTags(_ tag: String) {
        #expect(RecordSchema.isLanguageTag(tag))
    }

    @Test(arguments: ["", "e", "engl", "en-", "en_GB", "en-G", "-en", "en-abcdefghi", "한국", "e1", "ｅｎ", "en-ＧＢ", "en--GB"])
    func rejectsOtherLanguageTags(_ tag: String) {
        #expect(!RecordSchema.isLanguageTag(tag))
    }

    /// One entry of a `media` field, valid unless a part is given otherwise.
    static func media(
        id: String = String(repeating: "ab", count: 32), type: String = "image/jpeg", size: JSONValue = .int(48_213),
        name: JSONValue = "leaflet.jpg"
    ) -> JSONValue {
        .object(["id": .string(id), "type": .string(type), "size": size, "name": name])
    }
}
