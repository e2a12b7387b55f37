import Testing

@testable import HavenClient

/// Sizes that halve on trouble and grow by half on a good link, within 1...maximum.
struct AdaptiveSizeTests {
    @Test func startsFromTheSavedSizeWithinItsBounds() {
        #expect(AdaptiveSize(maximum: 500).current == 500)
        #expect(AdaptiveSize(maximum: 500, current: 120).current == 120)
        #expect(AdaptiveSize(maximum: 100, current: 400).current == 100)
        #expect(AdaptiveSize(maximum: 100, current: 0).current == 1)
    }

    @Test func shrinksByHalfDownToOne() {
        var size = AdaptiveSize(maximum: 500)
        var seen: [Int] = []
        for _ in 0..<10 {
            size.shrink()
            seen.append(size.current)
        }
        #expect(seen == [250, 125, 62, 31, 15, 7, 3, 1, 1, 1])
    }

    @Test func growsByHalfUpToTheMaximum() {
        var size = AdaptiveSize(maximum: 100, current: 1)
        var seen: [Int] = []
        for _ in 0..<12 {
            size.grow()
            seen.append(size.current)
        }
        #expect(seen == [2, 3, 5, 8, 12, 18, 27, 41, 62, 93, 100, 100])
    }

    @Test(arguments: [(100, 8, 4), (100, 1, 1), (3, 80, 1), (100, 3, 1)])
    func tooLargeHalvesWhatWasSent(current: Int, sent: Int, next: Int) {
        var size = AdaptiveSize(maximum: 100, current: current)
        size.shrink(below: sent)
        #expect(size.current == next)
    }
}
