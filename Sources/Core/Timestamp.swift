/// The stamp of one write: physical milliseconds, a logical counter and the writing replica's id.
///
/// Stamps are totally ordered: by time, then counter, then replica id. Two replicas never share
/// an id, so two writes never tie. The string form sorts in the same order as the stamp:
/// twelve hex digits of milliseconds, four of counter, then the replica id.
///
/// For example:
/// ```swift
/// let stamp = Timestamp(physical: 0x0193a1b2c3d4, counter: 0, replica: "a1b2c3d4e5f60718")
/// stamp.description  // "0193a1b2c3d4-0000-a1b2c3d4e5f60718"
/// ```
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970 (at most 48 bits).
    public let physical: UInt64
    /// Orders writes within one millisecond.
    public let counter: UInt16
    /// The id of the replica that made the write.
    public let replica: ReplicaID

    /// The largest physical time a stamp can carry: twelve hex digits.
    public static let maxPhysical: UInt64 = 0xFFFF_FFFF_FFFF

    /// A stamp at `physical` milliseconds, `counter` within them, by `replica`.
    public init(physical: UInt64, counter: UInt16, replica: ReplicaID) {
        precondition(physical <= Self.maxPhysical, "physical time beyond 48 bits")
        self.physical = physical
        self.counter = counter
        self.replica = replica
    }

    /// Parses the string form, returning nil when it is not one.
    public init?(_ text: String) {
        // The usual form, read from its bytes: twelve and four lowercase hex digits, each followed
        // by a dash. Anything else takes the general path below, which accepts the same strings.
        let bytes = Array(text.utf8)
        if bytes.count > 18, bytes[12] == UInt8(ascii: "-"), bytes[17] == UInt8(ascii: "-"),
            let physical = Self.lowercaseHex(bytes[0..<12]), let counter = Self.lowercaseHex(bytes[13..<17])
        {
            guard let replica = ReplicaID(String(decoding: bytes[18...], as: UTF8.self)) else { return nil }
            self.init(physical: physical, counter: UInt16(counter), replica: replica)
            return
        }
        let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 12, parts[1].count == 4,
            let physical = UInt64(parts[0], radix: 16), let counter = UInt16(parts[1], radix: 16),
            parts[0].allSatisfy(\.isLowercaseHexDigit), parts[1].allSatisfy(\.isLowercaseHexDigit),
            let replica = ReplicaID(String(parts[2]))
        else { return nil }
        self.init(physical: physical, counter: counter, replica: replica)
    }

    /// The value of a run of lowercase hex digits, or nil if any byte is not one.
    private static func lowercaseHex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// The stamp's string form, which sorts as the stamp does: `0193a1b2c3d4-0000-<replica>`.
    public var description: String {
        hex(physical, width: 12) + "-" + hex(UInt64(counter), width: 4) + "-" + replica.rawValue
    }

    /// Whether `lhs` orders before `rhs`: by physical time, then counter, then replica id.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.physical, lhs.counter, lhs.replica.rawValue) < (rhs.physical, rhs.counter, rhs.replica.rawValue)
    }

    /// Reads a stamp's string form, and throws when it is not one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let stamp = Timestamp(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a stamp (expected 12 hex-4 hex-replica id)")
        }
        self = stamp
    }

    /// Writes the stamp's string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The id of one replica: 1 to 32 lowercase letters and digits.
public struct ReplicaID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The id's text: 1 to 32 of `0-9` and `a-z`.
    public let rawValue: String

    /// Accepts 1 to 32 characters from `0-9` and `a-z`.
    public init?(_ rawValue: String) {
        // Bytes first: all of 0-9 and a-z means one character a byte, so the check below passes.
        let utf8 = rawValue.utf8
        if (1...32).contains(utf8.count),
            utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) })
        {
            self.rawValue = rawValue
            return
        }
        guard (1...32).contains(rawValue.count),
            rawValue.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLowercase) })
        else { return nil }
        self.rawValue = rawValue
    }

    /// A new random id of 16 hex digits.
    public static func random() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return ReplicaID(hex(generator.next(), width: 16))!
    }

    /// The id's text.
    public var description: String { rawValue }
    /// Whether `lhs` sorts before `rhs`, as their text does.
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Reads an id, and throws when it is not 1 to 32 of `a-z` and `0-9`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ReplicaID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a replica id (1 to 32 of a-z and 0-9)")
        }
        self = id
    }

    /// Writes the id's text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Lowercase hex, left-padded with zeros to `width` digits.
func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension Character {
    var isLowercaseHexDigit: Bool { isASCII && isHexDigit && !isUppercase }
}
