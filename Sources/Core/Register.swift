/// A last-writer-wins register: a value and the stamp of the write that set it.
public struct Register: Sendable, Hashable, Codable {
    public var value: JSONValue
    public var stamp: Timestamp

    public init(_ value: JSONValue, stamp: Timestamp) {
        self.value = value
        self.stamp = stamp
    }

    /// The register with the larger stamp (rule 1 of the merge rules).
    public static func winner(_ lhs: Register?, _ rhs: Register?) -> Register? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return rhs.stamp > lhs.stamp ? rhs : lhs
    }
}
