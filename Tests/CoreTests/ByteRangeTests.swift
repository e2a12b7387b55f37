import HavenCore
import Testing

/// `Range` headers against a file of 1,000 bytes (RFC 9110 §14.1.2).
struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-99", ByteRange.satisfiable(0..<100)),
        ("bytes=100-", .satisfiable(100..<1_000)),
        ("bytes=990-5000", .satisfiable(990..<1_000)),
        ("bytes=-10", .satisfiable(990..<1_000)),
        ("bytes=-5000", .satisfiable(0..<1_000)),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=5-1", .ignored),
        ("bytes=0-1,5-6", .ignored),
        ("items=0-1", .ignored),
        ("bytes=a-b", .ignored),
        ("bytes=-", .ignored),
    ])
    func readsOneRange(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange(header, size: 1_000) == expected)
    }
}
