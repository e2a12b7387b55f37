/// Why a record or a field value was refused, in words a person can act on.
///
/// The message names the field and what is wrong with it; it never repeats the value itself,
/// which may be sensitive.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault, or nil when the fault is the record as a whole.
    public let field: String?
    /// A stable machine-readable code such as `missing_field` or `invalid_field`.
    public let code: ErrorCode
    /// What is wrong, starting with the field's name, in every language (``Words``).
    public let words: Words

    /// What is wrong in English, the protocol's language: what the server answers.
    public var message: String { words.english }

    /// An error about `field` (nil for the whole record) with `code`, said in `words`.
    public init(field: String?, code: ErrorCode, words: Words) {
        self.field = field
        self.code = code
        self.words = words
    }

    /// What is wrong in the language of this task: what `haven` shows a person.
    public var description: String { words.text }

    /// A required field that is absent.
    public static func missing(_ field: String, kind: RecordKind) -> ValidationError {
        let noun = kind.noun.korean
        return ValidationError(
            field: field, code: .missingField,
            words: Words("\(field): required for a \(kind), but missing", korean: "\(field): \(noun)에 꼭 있어야 하는데 없습니다"))
    }

    static func invalid(_ field: String, _ problem: Words) -> ValidationError {
        ValidationError(
            field: field, code: .invalidField,
            words: Words("\(field): \(problem.english)", korean: "\(field): \(problem.korean)"))
    }
}
