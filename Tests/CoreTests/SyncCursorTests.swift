import Foundation
import HavenCore
import Testing

struct SyncCursorTests {
    @Test(arguments: ["5f1c0a9e3b7d2c41.1042", "a.0", "0123456789abcdef0123456789abcdef.9223372036854775807"])
    func stringFormRoundTrips(_ text: String) throws {
        let cursor = try #require(SyncCursor(text))
        #expect(cursor.description == text)
        #expect(SyncCursor(epoch: cursor.epoch, seq: cursor.seq) == cursor)
    }

    @Test func partsAreTheEpochAndTheLogPosition() {
        #expect(SyncCursor("5f1c0a9e3b7d2c41.1042") == SyncCursor(epoch: "5f1c0a9e3b7d2c41", seq: 1042))
    }

    @Test(arguments: [
        "", "1042", ".1042", "5f1c.", "5f1c.-1", "5f1c.+1", "5f1c.2.2", "5f1c.3.1", "5f1c.1.2.3", "5F1C.1", "xyz.1", "5f1c. 1", "5f1c.1e3",
        "5f1c.9223372036854775808", String(repeating: "a", count: 33) + ".1", "\u{FF41}.1", "5f1c.\u{FF11}",
    ])
    func parsingRejectsMalformedCursors(_ text: String) {
        #expect(SyncCursor(text) == nil)
    }

    @Test func encodesAsItsStringForm() throws {
        let data = try JSONEncoder().encode([SyncCursor(epoch: "ab12", seq: 7)])

        #expect(String(decoding: data, as: UTF8.self) == #"["ab12.7"]"#)
        #expect(try JSONDecoder().decode([SyncCursor].self, from: data) == [SyncCursor(epoch: "ab12", seq: 7)])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([SyncCursor].self, from: Data(#"["ab12"]"#.utf8))
        }
    }

    @Test func pagingPositionRoundTripsAndStaysAheadOfTheBase() throws {
        let cursor = try #require(SyncCursor("5f1c.1042.1500"))
        #expect(cursor.seq == 1042 && cursor.position == 1500)
        #expect(cursor.description == "5f1c.1042.1500")
        #expect(SyncCursor("5f1c.1042")?.position == nil)
    }
}
