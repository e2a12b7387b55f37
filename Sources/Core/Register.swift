/// A last-writer-wins register: a value and the stamp of the write that set it.
public struct Register: Sendable, Hashable, Codable {
    /// The value the write set.
    public var value: JSONValue
    /// The stamp of the write that set the value.
    public var stamp: Timestamp

    /// A register holding `value`, written at `stamp`.
    public init(_ value: JSONValue, stamp: Timestamp) {
        self.value = value
        self.stamp = stamp
    }

    /// The register with the larger stamp (<doc:MergeRules>, rule 2).
    public static func winner(_ lhs: Register?, _ rhs: Register?) -> Register? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return rhs.stamp > lhs.stamp ? rhs : lhs
    }
}
