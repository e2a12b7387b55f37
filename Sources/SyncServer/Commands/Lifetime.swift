import ArgumentParser

/// A lifetime written as a number and a unit: `30d`, `12h`, `90m`, `45s`, at most ``longest``.
///
/// A longer one (up to any number of digits) is read as ``longest`` and marked ``isTooLong``,
/// so that no count can overflow; each command refuses it by name in `validate()`, with
/// ``validate(option:)``.
struct Lifetime: ExpressibleByArgument {
    /// A hundred years, in milliseconds.
    static let longest: UInt64 = 36_500 * 86_400_000
    /// What the lifetime options accept, as their messages say it.
    static let range = "from 1s to 36500d (100 years)"

    let milliseconds: UInt64
    /// Whether the text asked for more than ``longest``.
    let isTooLong: Bool

    init?(argument: String) {
        guard let unit = argument.last else { return nil }
        let digits = argument.dropLast()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let seconds: UInt64? =
            switch unit {
            case "d": 86_400
            case "h": 3_600
            case "m": 60
            case "s": 1
            default: nil
            }
        guard let seconds else { return nil }
        // All digits: a count too large for UInt64 is too long as well.
        guard let count = UInt64(digits) else {
            (milliseconds, isTooLong) = (Self.longest, true)
            return
        }
        guard count > 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: seconds * 1000)
        isTooLong = overflow || product > Self.longest
        milliseconds = isTooLong ? Self.longest : product
    }

    /// Throws, naming `option` and the range, when the lifetime is longer than ``longest``.
    func validate(option: String) throws {
        if isTooLong { throw ValidationError("\(option) must be \(Self.range)") }
    }
}
