import Foundation
import HavenCore
import Testing

struct JSONValueTests {
    private func roundTrip(_ value: JSONValue) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    @Test(arguments: [
        JSONValue.null, true, false, 0, 42, -7, .int(Int64.max), .int(Int64.min), .double(1.5), .double(-0.25),
        .double(1e300), "", "text", "한국어", ["a", 1, .null], .object([:]),
        .object(["nested": .object(["list": [1, 2, ["deep"]]]), "flag": false]),
    ])
    func roundTripsThroughJSON(_ value: JSONValue) throws {
        #expect(try roundTrip(value) == value)
    }

    @Test(arguments: [
        ("1", JSONValue.int(1)), ("1.5", .double(1.5)), ("true", .bool(true)), ("null", .null), (#""1""#, .string("1")),
        ("[]", .array([])), (#"{"a":[true]}"#, .object(["a": [true]])),
        ("18446744073709551616", .double(18446744073709551616)),
    ])
    func decodesEachKindOfJSONAsItself(_ text: String, expected: JSONValue) throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == expected)
    }

    @Test func wholeNumberDoublesEqualTheIntegersTheyAreWrittenAs() throws {
        // A replica that writes 2.0 keeps .double(2.0) while every other replica reads .int(2): they must agree.
        let decoded = try roundTrip(.double(2.0))
        #expect(decoded == .double(2.0))
        #expect(Set([JSONValue.double(2.0), .int(2)]).count == 1)
        #expect(JSONValue.double(2.5) != .int(2))
    }

    @Test func depthCountsNesting() {
        #expect(JSONValue.string("x").depth == 0)
        #expect(JSONValue.array([]).depth == 1)
        #expect(JSONValue.object(["a": [["b"]]]).depth == 3)
        #expect(JSONValue.array([1, .object(["a": [1]]), 2]).depth == 3)
    }

    @Test func stringAccessorsReturnOnlyStrings() {
        #expect(JSONValue.string("x").stringValue == "x")
        #expect(JSONValue.int(1).stringValue == nil)
        #expect(JSONValue.array(["a", "b"]).stringArrayValue == ["a", "b"])
        #expect(JSONValue.array([]).stringArrayValue == [])
        #expect(JSONValue.array(["a", 1]).stringArrayValue == nil)
        #expect(JSONValue.string("a").stringArrayValue == nil)
    }
}
