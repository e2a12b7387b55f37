@testable import HavenServer
import Testing

@Suite struct ConcurrentMapTests {
    struct Odd: Error, Equatable { let value: Int }

    @Test(arguments: [0, 1, 63, 64, 127, 128, 129, 1000, 10_007])
    func keepsOrderAndEveryElement(count: Int) throws {
        let values = Array(0..<count)
        #expect(try values.concurrentMap { $0 * 3 } == values.map { $0 * 3 })
    }

    @Test(arguments: [0, 100, 128, 1001])
    func slicesMakeUpTheArrayInOrder(count: Int) {
        let values = Array(0..<count)
        let slices = values.concurrentSlices { Array($0) }
        #expect(slices.flatMap { $0 } == values)
        #expect(slices.allSatisfy { !$0.isEmpty } || count == 0)
    }

    @Test func aFailureInAnySliceIsThrown() {
        let values = Array(0..<1000)
        #expect(throws: Odd(value: 999)) {
            try values.concurrentMap { value in
                if value == 999 { throw Odd(value: value) }
                return value
            }
        }
    }
}
