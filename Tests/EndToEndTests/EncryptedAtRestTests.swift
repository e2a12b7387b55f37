import Foundation
import HavenCore
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Every byte `haven` writes under an encrypted replica's directory is ciphertext, even with the
/// process killed in the middle of a transaction (issue 13): stories with known English and
/// Korean phrases and tags are synced, edited and searched, a large import is killed with
/// SIGKILL once its transaction is spilling into the WAL, and the directory is scanned.
@Suite(.serialized)
struct EncryptedAtRestTests {
    static let phrases = ["Crossing at Tumen", "두만강을 건넜다", "riverroute", "탈북경로", "Hid in Yanji", "연길에 숨었다"]

    @Test func noPhraseNorTheTokenIsFoundOnDiskAfterAKill() throws {
        // Given an encrypted replica that synced, edited and searched stories with known phrases
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "field")
        let device = Device("field/replica", in: directory)
        try device.haven("init", "--server", server.url, "--token-file", directory.write(token, to: "token.txt"))
        let id = try device.haven(
            "stories", "add", "--title", "\(Self.phrases[0]) at night", "--body", "그날 \(Self.phrases[1]).",
            "--tags", "\(Self.phrases[2]),\(Self.phrases[3])", "--language", "ko")
        try device.haven("sync")
        try device.haven("stories", "edit", id, "--summary", "\(Self.phrases[4]); \(Self.phrases[5])")
        try device.haven("sync")
        #expect(try device.haven("search", "두만강").contains(id))
        #expect(try device.haven("search", "Yanji").contains(id))

        // When a large import of stories carrying the same phrases is killed mid-transaction,
        // once its writes to the WAL show it is well under way
        let pack = directory.path("big.json")
        try bigPack().canonicalJSON().write(to: URL(fileURLWithPath: pack))
        let importing = try device.importKilledMidTransaction(pack)
        #expect(importing.result().reason == .uncaughtSignal)

        // Then no phrase, lowercased or in UTF-16, nor the token is anywhere under the replica's directory
        let hits = try scan(directory.path("field"), for: Self.phrases + [token])
        #expect(hits.isEmpty, "found \(hits)")

        // And the replica still opens, with what was committed and nothing of the killed import
        #expect(try device.haven("stories", "list").contains(id))
        #expect(try device.haven("status").contains("It holds 1 story and"))
    }

    /// 4,000 stories whose titles, bodies and tags carry the phrases, about 8 MB.
    private func bigPack() -> ContentPack {
        var random = SplitMix64(seed: 13)
        return ContentPack(
            records: (0..<4_000).map { index in
                ContentPack.Record(
                    id: SamplePack.recordID(&random), kind: .story,
                    fields: [
                        "title": .string("\(Self.phrases[index % 2 == 0 ? 0 : 1]) \(index)"),
                        "body": .string("\(Self.phrases[4]) \(SamplePack.body(&random, bytes: 2_000)) \(Self.phrases[5])"),
                        "language": .string(index % 2 == 0 ? "en" : "ko"),
                        "tags": .array([.string(Self.phrases[2]), .string(Self.phrases[3])]),
                        "status": "published",
                    ])
            })
    }
}

extension Device {
    /// Runs `haven import PACK` on this replica and kills it with SIGKILL once its transaction
    /// has written 2 MB to the WAL: mid-transaction, well under way. Returns the killed process.
    @discardableResult
    func importKilledMidTransaction(_ pack: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunningProcess {
        let importing = try launch(
            Binaries.url("haven"), ["import", pack], environment: ["HAVEN_REPLICA": replica], in: directory)
        let wal = replica + "-wal"
        try Polling.until("the import writing 2 MB to the WAL", limit: 300) {
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            return size > 2 << 20 || !importing.process.isRunning
        }
        #expect(
            importing.process.isRunning, "the import ended before it was killed: \(importing.result().stdout)",
            sourceLocation: sourceLocation)
        kill(importing.process.processIdentifier, SIGKILL)
        importing.process.waitUntilExit()
        return importing
    }
}
