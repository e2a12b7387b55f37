/// Why a record or a field value was refused, in words a person can act on.
///
/// The message names the field and what is wrong with it; it never repeats the value itself,
/// which may be sensitive.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault, or nil when the fault is the record as a whole.
    public let field: String?
    /// A stable machine-readable code such as `missing_field` or `invalid_field`.
    public let code: ErrorCode
    /// What is wrong, starting with the field's name.
    public let message: String

    public init(field: String?, code: ErrorCode, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func missing(_ field: String, kind: RecordKind) -> ValidationError {
        ValidationError(field: field, code: .missingField, message: "\(field): required for a \(kind), but missing")
    }

    static func invalid(_ field: String, _ problem: String) -> ValidationError {
        ValidationError(field: field, code: .invalidField, message: "\(field): \(problem)")
    }
}
