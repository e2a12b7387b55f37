/// A request size that follows the link: halved after a failure or a slow answer, grown by half
/// after a quick full one, never below 1 nor above its maximum (DESIGN §5).
///
/// The push batch and the pull page each have one; their current values are kept in the replica,
/// so the next run starts from what the link last allowed.
///
/// For example:
/// ```swift
/// var page = AdaptiveSize(maximum: 500, current: 500)
/// page.shrink()  // 250, after a timeout
/// page.grow()    // 375, after a quick full page
/// ```
public struct AdaptiveSize: Sendable, Equatable, Codable {
    /// The largest size: the command's option, or the server's limit.
    public let maximum: Int
    /// The size to ask for next.
    public private(set) var current: Int

    /// A size starting from `current` (the maximum when nil), brought within 1...maximum.
    public init(maximum: Int, current: Int? = nil) {
        self.maximum = max(1, maximum)
        self.current = min(max(1, current ?? maximum), self.maximum)
    }

    /// Halves the size (not below 1).
    public mutating func shrink() {
        current = max(1, current / 2)
    }

    /// Halves the size of a request of `count` items that was too large: the next one is at most
    /// half of it, whatever the size was before.
    public mutating func shrink(below count: Int) {
        current = max(1, min(current, count) / 2)
    }

    /// Grows the size by half (at least by one), up to the maximum.
    public mutating func grow() {
        current = min(maximum, max(current + 1, (current * 3 + 1) / 2))
    }
}
