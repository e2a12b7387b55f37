extension Change {
    /// The bytes of this change's JSON as a server counts them against
    /// ``ServerLimits/recordBytes``: what `JSONEncoder()` with default options writes, as long as
    /// `CompactJSON` writes it.
    public var encodedBytes: Int { (try? CompactJSON.encode(self).count) ?? Int.max }
}
