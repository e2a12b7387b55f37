/// One range of a `Range: bytes=…` header (RFC 9110 §14.1.2), against a file of known size.
///
/// For example:
/// ```swift
/// ByteRange("bytes=100-", size: 1000)  // .satisfiable(100..<1000)
/// ByteRange("bytes=-10", size: 1000)   // .satisfiable(990..<1000)
/// ```
public enum ByteRange: Sendable, Hashable {
    /// The bytes to send.
    case satisfiable(Range<Int64>)
    /// A well-formed range that starts past the end: 416.
    case unsatisfiable
    /// Not one range of bytes: the whole file is sent, as RFC 9110 allows.
    case ignored

    /// The range a `Range` header asks of a file of `size` bytes.
    public init(_ header: String, size: Int64) {
        guard header.hasPrefix("bytes="), !header.contains(",") else {
            self = .ignored
            return
        }
        let spec = header.dropFirst(6).trimming(" ")
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            self = .ignored
            return
        }
        let first = parts[0].isEmpty ? nil : Int64(parts[0])
        let last = parts[1].isEmpty ? nil : Int64(parts[1])
        switch (parts[0].isEmpty, parts[1].isEmpty) {
        case (true, false):
            guard let suffix = last, suffix >= 0 else { self = .ignored; return }
            self = suffix == 0 || size == 0 ? .unsatisfiable : .satisfiable(max(0, size - suffix)..<size)
        case (false, _):
            guard let start = first, start >= 0 else { self = .ignored; return }
            if let end = last, end < start { self = .ignored; return }
            if !parts[1].isEmpty, last == nil { self = .ignored; return }
            guard start < size else { self = .unsatisfiable; return }
            self = .satisfiable(start..<min(size, (last ?? size - 1) + 1))
        default:
            self = .ignored
        }
    }
}

extension Substring {
    fileprivate func trimming(_ set: Character) -> Substring {
        var text = self
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return text
    }
}
