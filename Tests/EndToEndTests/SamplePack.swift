import Foundation
import Testing
import HavenCore
import TestSupport

/// Seeded content for the bad-link, kill and disk-full tests: published stories with 1–4 KB
/// bodies mixing English and Korean, and published resources.
enum SamplePack {
    /// A pack of `stories` stories and `resources` resources; the same seed gives the same pack.
    static func make(stories: Int, resources: Int, seed: UInt64) -> ContentPack {
        var random = SplitMix64(seed: seed)
        var records: [ContentPack.Record] = []
        for index in 0..<stories {
            records.append(
                ContentPack.Record(
                    id: recordID(&random), kind: .story,
                    fields: [
                        "title": .string(
                            "\(index % 2 == 0 ? "Crossing" : "건너기") \(index): \(sentence(&random, words: 4))"),
                        "summary": .string(sentence(&random, words: 12)),
                        "body": .string(body(&random, bytes: 1024 + Int(random.next() % 3072))),
                        "language": .string(index % 2 == 0 ? "en" : "ko"),
                        "tags": .array([.string("sample"), .string(index % 3 == 0 ? "국경" : "family")]),
                        "status": "published",
                    ]))
        }
        let categories = RecordSchema.categories
        for index in 0..<resources {
            records.append(
                ContentPack.Record(
                    id: recordID(&random), kind: .resource,
                    fields: [
                        "name": .string("Resource \(index) \(sentence(&random, words: 2))"),
                        "category": .string(categories[index % categories.count]),
                        "country": .string(["KR", "CN", "TH", "MN"][index % 4]),
                        "description": .string(sentence(&random, words: 20 + Int(random.next() % 40))),
                        "phone": .string("+82 2 \(1000 + index) \(2000 + index)"),
                        "languages": .array([.string("ko"), .string("en")]),
                        "status": "published",
                    ]))
        }
        return ContentPack(records: records)
    }

    /// Writes `pack` to `name` in `directory` and loads it with `haven-server import`.
    static func importPack(_ pack: ContentPack, into server: ServerProcess, name: String = "pack.json") throws {
        let file = server.directory.path(name)
        try pack.canonicalJSON().write(to: URL(fileURLWithPath: file))
        let result = try run(
            Binaries.url("haven-server"), ["import", "--database", server.database, file], in: server.directory)
        guard result.status == 0 else { throw ClientFailure("import failed: \(result.stdout) \(result.stderr)") }
    }

    /// `exported` in the form `make` writes: each record's `version` (the stamp an export adds so
    /// that a re-import cannot undo a later edit) dropped, so that it compares byte for byte.
    static func withoutVersions(_ exported: Data) throws -> Data {
        var pack = try JSONDecoder().decode(ContentPack.self, from: exported)
        #expect(pack.records.allSatisfy { $0.version != nil }, "an export gives every record its version")
        for index in pack.records.indices { pack.records[index].version = nil }
        return try pack.canonicalJSON()
    }

    /// What differs between two exported packs, by record id, for a failure message.
    static func difference(_ left: Data, _ right: Data) -> String {
        // Not ContentPack.decode: a record that lost a required field must still be shown.
        let decoder = JSONDecoder()
        guard let left = try? decoder.decode(ContentPack.self, from: left),
            let right = try? decoder.decode(ContentPack.self, from: right)
        else { return "an export is not a pack" }
        let leftRecords = Dictionary(uniqueKeysWithValues: left.records.map { ($0.id, $0) })
        let rightRecords = Dictionary(uniqueKeysWithValues: right.records.map { ($0.id, $0) })
        let onlyLeft = leftRecords.keys.filter { rightRecords[$0] == nil }.sorted()
        let onlyRight = rightRecords.keys.filter { leftRecords[$0] == nil }.sorted()
        let changed = leftRecords.compactMap { id, record -> String? in
            guard let other = rightRecords[id], other != record else { return nil }
            let fields = Set(record.fields.keys).union(other.fields.keys).filter {
                record.fields[$0] != other.fields[$0]
            }
            return "\(id) (\(fields.sorted().joined(separator: ", ")))"
        }.sorted()
        return """
            \(left.records.count) vs \(right.records.count) records; only left: \(onlyLeft.prefix(5)) (\(onlyLeft.count)); \
            only right: \(onlyRight.prefix(5)) (\(onlyRight.count)); different: \(changed.prefix(5)) (\(changed.count))
            """
    }

    /// A body of about `bytes` UTF-8 bytes, in paragraphs of English and Korean sentences.
    static func body(_ random: inout SplitMix64, bytes: Int) -> String {
        var text = ""
        while text.utf8.count < bytes {
            text += sentence(&random, words: 6 + Int(random.next() % 12)) + (random.next() % 5 == 0 ? "\n\n" : " ")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One sentence, English or Korean.
    static func sentence(_ random: inout SplitMix64, words count: Int) -> String {
        let words = random.next() % 2 == 0 ? english : korean
        let picked = (0..<count).map { _ in words[Int(random.next() % UInt64(words.count))] }
        return picked.joined(separator: " ").capitalizedFirst + "."
    }

    /// A seeded lowercase UUID.
    static func recordID(_ random: inout SplitMix64) -> String {
        let hex = String(format: "%016llx%016llx", random.next(), random.next())
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    static let english = """
        river night border mother school friend memory train village winter letter market road bread \
        family rain mountain quiet doctor station morning journey language work shelter phone house \
        window city hope paper light north south crossing young old long short warm cold safe help
        """.split(separator: " ").map(String.init)

    static let korean = """
        강 밤 국경 어머니 학교 친구 기억 기차 마을 겨울 편지 시장 길 빵 가족 비 산 조용한 의사 역 \
        아침 여행 언어 일 쉼터 전화 집 창문 도시 희망 종이 빛 북쪽 남쪽 건너기 젊은 오래된 따뜻한 \
        추운 안전한 도움 이야기 자유 사람 하늘 바다
        """.split(separator: " ").map(String.init)
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
