import Foundation

/// A pull reader of JSON text for the types read on every pull, push and merge: the reading
/// half of ``CompactJSON``. Foundation's `JSONDecoder` goes through a boxed tree and `Codable`'s
/// generic containers; it was the largest cost left on both sides of a first sync and of a
/// publish (BENCHMARKS.md, issue 20).
///
/// It accepts exactly what `JSONDecoder` accepts for these types and reads the same values: a
/// type reads itself from the reader (``JSONReadable``) with the rules its `Codable` conformance
/// has (required keys, `nil` for a missing or null optional, unknown keys skipped). Anything
/// unusual (a malformed document, a missing key, a number out of range) makes ``decode(_:from:)``
/// hand the whole text to `JSONDecoder`, so that errors, and their words, stay `JSONDecoder`'s.
/// `JSONReaderTests` hold the two to the same answers, on valid and on damaged text.
package struct JSONReader {
    /// Why the fast reading stopped; never shown: `JSONDecoder` then says what is wrong.
    package struct Unreadable: Error, Sendable {
        package let offset: Int
    }

    /// How deeply arrays and objects may nest, as in `JSONDecoder`.
    static let maximumDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0
    /// Whether the container just begun has had no member read yet: a `,` may not come first.
    private var atContainerStart = false

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Reads a `T` from `data`, through `JSONDecoder` when the fast reading gives up.
    package static func decode<T: JSONReadable>(_ type: T.Type, from data: Data) throws -> T {
        if let value = try? data.withUnsafeBytes({ try read(T.self, $0) }) { return value }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Reads a `T` from `text`, through `JSONDecoder` when the fast reading gives up.
    package static func decode<T: JSONReadable>(_ type: T.Type, from text: String) throws -> T {
        var text = text
        if let value = try? text.withUTF8({ try read(T.self, UnsafeRawBufferPointer($0)) }) { return value }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// The fast reading alone: a whole document holding one `T`, or ``Unreadable``.
    package static func read<T: JSONReadable>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer) throws -> T {
        var reader = JSONReader(bytes)
        let value = try T(reading: &reader)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw reader.unreadable() }
        return value
    }

    // MARK: Containers

    /// Reads `{`; then call ``nextKey()`` until it returns nil.
    package mutating func beginObject() throws {
        try open(UInt8(ascii: "{"))
    }

    /// The next member's key, its `:` read; nil at the object's `}`.
    package mutating func nextKey() throws -> String? {
        guard try nextMember(closing: UInt8(ascii: "}")) else { return nil }
        let key = try readString()
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw unreadable() }
        index += 1
        return key
    }

    /// Reads `[`; then call ``nextElement()`` until it returns false.
    package mutating func beginArray() throws {
        try open(UInt8(ascii: "["))
    }

    /// Whether another element follows (then read it); false at the array's `]`.
    package mutating func nextElement() throws -> Bool {
        try nextMember(closing: UInt8(ascii: "]"))
    }

    /// Reads each member of an object as a `Value`, keyed by name. A key repeated is left to
    /// `JSONDecoder` (which keeps its first value).
    package mutating func readDictionary<Value>(_ value: (inout JSONReader) throws -> Value) throws -> [String: Value] {
        var members: [String: Value] = [:]
        try beginObject()
        while let key = try nextKey() {
            guard members.updateValue(try value(&self), forKey: key) == nil else { throw unreadable() }
        }
        return members
    }

    /// Reads an object's members: `member` reads the value of each key in `keys`, given its
    /// index there; other keys are skipped, as a synthesized `Decodable` skips them. A key of
    /// `keys` repeated is left to `JSONDecoder`.
    package mutating func readMembers(_ keys: [String], _ member: (inout JSONReader, Int) throws -> Void) throws {
        var seen: UInt64 = 0
        try beginObject()
        while let key = try nextKey() {
            guard let index = keys.firstIndex(of: key) else {
                try skipValue()
                continue
            }
            guard seen & 1 << index == 0 else { throw unreadable() }
            seen |= 1 << index
            try member(&self, index)
        }
    }

    /// Reads each element of an array as an `Element`.
    package mutating func readArray<Element>(_ element: (inout JSONReader) throws -> Element) throws -> [Element] {
        var elements: [Element] = []
        try beginArray()
        while try nextElement() { elements.append(try element(&self)) }
        return elements
    }

    private mutating func open(_ bracket: UInt8) throws {
        skipWhitespace()
        guard peek() == bracket, depth < Self.maximumDepth else { throw unreadable() }
        index += 1
        depth += 1
        atContainerStart = true
    }

    private mutating func nextMember(closing: UInt8) throws -> Bool {
        skipWhitespace()
        let first = atContainerStart
        atContainerStart = false
        if peek() == closing {
            index += 1
            depth -= 1
            return false
        }
        if !first {
            guard peek() == UInt8(ascii: ",") else { throw unreadable() }
            index += 1
            skipWhitespace()
        }
        // An object's member starts with its key; anything may start an array's element.
        if closing == UInt8(ascii: "}"), peek() != UInt8(ascii: "\"") { throw unreadable() }
        return true
    }

    // MARK: Values

    /// Whether the next value is `null`; if so it is read.
    package mutating func readNull() -> Bool {
        skipWhitespace()
        return literal("null")
    }

    package mutating func readBool() throws -> Bool {
        skipWhitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw unreadable()
    }

    /// A number that is a whole `Int64` (`3`, also `3.0` or `3e0`, as `JSONDecoder` reads them).
    package mutating func readInt64() throws -> Int64 {
        guard case .int(let value) = try readNumber() else { throw unreadable() }
        return value
    }

    /// A number that is a whole `UInt64` up to `Int64.max`; a larger one is left to `JSONDecoder`.
    package mutating func readUInt64() throws -> UInt64 {
        guard case .int(let value) = try readNumber(), value >= 0 else { throw unreadable() }
        return UInt64(value)
    }

    /// Any JSON value, as ``JSONValue`` decodes it.
    package mutating func readValue() throws -> JSONValue {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "{"): return .object(try readDictionary { try $0.readValue() })
        case UInt8(ascii: "["): return .array(try readArray { try $0.readValue() })
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try readBool())
        case UInt8(ascii: "n"):
            guard readNull() else { throw unreadable() }
            return .null
        default: return try readNumber()
        }
    }

    /// Reads and discards one value.
    package mutating func skipValue() throws {
        _ = try readValue()
    }

    package mutating func readString() throws -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw unreadable() }
        index += 1
        let start = index
        index = PlainText.end(of: bytes, from: index)
        guard index < bytes.count else { throw unreadable() }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            let text = try string(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            index += 1
            return text
        case UInt8(ascii: "\\"): return try readEscapedString(from: start)
        default: throw unreadable()
        }
    }

    /// `utf8` as a string, refused unless it is valid UTF-8. `String(validating:as:)` goes
    /// through the standard library's unspecialized generic code, a fifth of reading a content
    /// pack; decoding (which repairs) and comparing the bytes is the same test, faster.
    private func string(_ utf8: UnsafeRawBufferPointer) throws -> String {
        guard !utf8.isEmpty else { return "" }
        let text = utf8.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
        let unrepaired = text.utf8.withContiguousStorageIfAvailable {
            $0.count == utf8.count && memcmp($0.baseAddress!, utf8.baseAddress!, utf8.count) == 0
        }
        guard unrepaired == true else { throw unreadable() }
        return text
    }

    /// The rest of a string that holds an escape, from its first byte at `start`.
    private mutating func readEscapedString(from start: Int) throws -> String {
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try utf8.withUnsafeBytes { try string($0) }
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw unreadable() }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: String(Character(try readEscapedScalar())).utf8)
                default: throw unreadable()
                }
            case ..<0x20: throw unreadable()
            default: utf8.append(byte)
            }
        }
        throw unreadable()
    }

    /// The scalar of a `\u` escape (its `\u` read), joining a surrogate pair; a lone surrogate
    /// is refused.
    private mutating func readEscapedScalar() throws -> Unicode.Scalar {
        let first = try readHex4()
        if let scalar = Unicode.Scalar(first) { return scalar }
        guard (0xD800..<0xDC00).contains(first), literal("\\u") else { throw unreadable() }
        let second = try readHex4()
        guard (0xDC00..<0xE000).contains(second),
            let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        else { throw unreadable() }
        return scalar
    }

    private mutating func readHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw unreadable() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw unreadable()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A JSON number as ``JSONValue`` decodes it: a whole number that fits `Int64` as `.int`
    /// (`2.0` and `2e0` too), any other finite number as `.double`. A number from 2^53 to 10^19
    /// that is not written as a plain `Int64` (`92233720368547758.7`, `-1e17`) is left to
    /// `JSONDecoder`, which reads some of them as an `Int64` that a `Double` cannot hold.
    private mutating func readNumber() throws -> JSONValue {
        skipWhitespace()
        let start = index
        var isInteger = true
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw unreadable() }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            isInteger = false
            guard digits() > 0 else { throw unreadable() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            isInteger = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw unreadable() }
        }
        if isInteger, index - start <= 18 { return .int(wholeNumber(start..<index)) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite, !(0x20_0000_0000_0000..<1e19).contains(value.magnitude) else {
            throw unreadable()
        }
        if let whole = Int64(exactly: value) { return .int(whole) }
        return .double(value)
    }

    /// The value of a whole number of at most 18 characters (so it cannot overflow), its
    /// syntax already checked: stamps and sizes are most of the numbers read.
    private func wholeNumber(_ range: Range<Int>) -> Int64 {
        let negative = bytes[range.lowerBound] == UInt8(ascii: "-")
        var value: Int64 = 0
        for offset in (negative ? range.lowerBound + 1 : range.lowerBound)..<range.upperBound {
            value = value * 10 + Int64(bytes[offset] - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// How many decimal digits were read.
    private mutating func digits() -> Int {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    /// Reads `word` if the text continues with it.
    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let word = UnsafeRawBufferPointer(start: word.utf8Start, count: count)
        guard bytes[index..<index + count].elementsEqual(word) else { return false }
        index += count
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
                || byte == UInt8(ascii: "\r")
        {
            index += 1
        }
    }

    /// An ``Unreadable`` at the current byte.
    package func unreadable() -> Unreadable {
        Unreadable(offset: index)
    }
}

/// A type ``JSONReader`` reads directly, with the rules of its `Decodable` conformance.
package protocol JSONReadable: Decodable {
    init(reading reader: inout JSONReader) throws
}
