import Foundation

/// What a record is: a story (testimony, news, guidance) or a resource (a place or line of help).
public enum RecordKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case story
    case resource

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let kind = RecordKind(rawValue: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be story or resource")
        }
        self = kind
    }
}

/// Record ids are lowercase UUIDs.
public enum RecordID {
    /// Whether `text` is a lowercase UUID in its 8-4-4-4-12 form.
    public static func isValid(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12]
            && groups.allSatisfy { $0.allSatisfy(\.isLowercaseHexDigit) }
    }

    /// A new random id.
    public static func random() -> String { UUID().uuidString.lowercased() }
}
