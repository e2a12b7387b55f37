extension Change {
    /// The bytes of this change's JSON as a server counts them against
    /// ``ServerLimits/recordBytes``: what `JSONEncoder()` with default options writes, as long as
    /// `CompactJSON` writes it.
    public var encodedBytes: Int { (try? CompactJSON.encode(self).count) ?? Int.max }

    /// ``encodedBytes`` read from the change's JSON as the replica stores it (`CompactJSON`'s
    /// replica style), which differs from the server's only in the order of keys and in writing
    /// `/` unescaped: the same length, less one byte a `/`. Spares a local write encoding its
    /// change a second time to measure it.
    public static func encodedBytes(replicaJSON: String) -> Int {
        var text = replicaJSON
        // Over the contiguous bytes: a generic count here was a fifth of a large import.
        return text.withUTF8 { utf8 in
            utf8.count + utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
        }
    }
}
