/// Where a run of string bytes that JSON carries as they are ends: the one scan the reader, the
/// writers and the canonical encoding share. Strings are most of what a record holds, so it
/// looks at eight bytes at a time.
package enum PlainText {
    /// The index of the first byte from `start` that a JSON string cannot hold as it is (`"`,
    /// `\`, a control character, and `/` when `slash`), or `bytes.count`.
    package static func end(of bytes: UnsafeRawBufferPointer, from start: Int, slash: Bool = false) -> Int {
        var index = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = ones &* UInt64(UInt8(ascii: "\""))
        let backslash = ones &* UInt64(UInt8(ascii: "\\"))
        // When slashes pass, a byte that valid UTF-8 never holds stands in for them (a stray
        // one only sends the scan to the exact byte loop below).
        let solidus = slash ? ones &* UInt64(UInt8(ascii: "/")) : ones &* 0xFF
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let quotes = word ^ quote
            let backslashes = word ^ backslash
            let slashes = word ^ solidus
            // A byte is flagged when it is zero (after the xor) or below 0x20: the classic
            // "has a byte less than n" test, exact for whether any byte is.
            let flagged = ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes
                | (slashes &- ones) & ~slashes | (word &- ones &* 0x20) & ~word) & highs
            if flagged != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || (slash && byte == UInt8(ascii: "/")) {
                return index
            }
            index += 1
        }
        return index
    }
}
