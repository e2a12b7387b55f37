/// One fast pass over a request body before it is decoded: the bytes must be UTF-8, and arrays
/// and objects may not nest deeper than a limit.
///
/// The pass runs in constant memory and never recurses, so a body of ten thousand `[` costs a
/// few microseconds instead of the decoder's stack. Brackets inside strings do not count; string
/// escapes (`\"`, `\\`) are followed. Everything else about the syntax is left to the decoder.
///
/// For example:
/// ```swift
/// JSONPreflight.problem(in: Array(#"{"a":[[1]]}"#.utf8), maxDepth: 2)  // .tooDeep(offset: 6)
/// ```
enum JSONPreflight: Equatable {
    /// A byte at `offset` that does not continue valid UTF-8 (overlong forms, surrogates and code
    /// points beyond U+10FFFF included).
    case invalidUTF8(offset: Int)
    /// The bracket at `offset` opens one level more than allowed.
    case tooDeep(offset: Int, maxDepth: Int)

    /// The first problem in `bytes`, or nil when the body may go to the decoder.
    static func problem(in bytes: UnsafeRawBufferPointer, maxDepth: Int) -> JSONPreflight? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte >= 0x80 {
                guard let length = sequenceLength(in: bytes, at: index) else { return .invalidUTF8(offset: index) }
                escaped = false
                index += length
                continue
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > maxDepth { return .tooDeep(offset: index, maxDepth: maxDepth) }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    // Never below 0: stray closers first must not buy depth for later openers.
                    depth = max(0, depth - 1)
                default:
                    break
                }
            }
            index += 1
        }
        return nil
    }

    /// The length of the well-formed UTF-8 sequence starting with a non-ASCII byte at `index`,
    /// or nil (Unicode 15, table 3-7).
    private static func sequenceLength(in bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            return nil
        }
        return length
    }
}
