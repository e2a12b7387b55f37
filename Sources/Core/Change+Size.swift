import Foundation

extension Change {
    /// The bytes of this change's JSON as a server counts them against
    /// ``ServerLimits/recordBytes``: what `JSONEncoder()` with default options writes.
    public var encodedBytes: Int { (try? JSONEncoder().encode(self).count) ?? Int.max }
}
