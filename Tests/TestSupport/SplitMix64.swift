/// A small seeded generator (SplitMix64) so that simulations replay exactly from their seed.
///
/// The helpers below reduce with plain modulo instead of the standard library's `random(in:using:)`,
/// so a seed gives the same run on every Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range` (the modulo bias is irrelevant at these sizes).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `percent` / 100.
    public mutating func chance(_ percent: Int) -> Bool {
        int(in: 0...99) < percent
    }

    /// A random element of a non-empty collection.
    public mutating func pick<C: Collection>(_ items: C) -> C.Element {
        precondition(!items.isEmpty, "picking from an empty collection")
        return items[items.index(items.startIndex, offsetBy: int(in: 0...(items.count - 1)))]
    }

    /// A random lowercase UUID.
    public mutating func uuid() -> String {
        let digits = hex(next(), width: 16) + hex(next(), width: 16)
        let chars = Array(digits)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
    }

    private func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: width - digits.count) + digits
    }
}
