import Crypto
import Foundation
import TestSupport

@testable import HavenClient

/// Reading and damaging a replica's files on disk, as someone holding the device could.
enum ReplicaFiles {
    /// Phrases the scan looks for, in title, body and tags, in English and Korean.
    static let phrases = [
        "Crossing the frozen Tumen at night", "The broker kept our papers in Yanji",
        "하나원에서 보낸 첫 몇 달", "신분증이 없는 여성은 병원에도 갈 수 없다",
        "shelter-yanbian", "탈북여성쉼터",
    ]

    /// Every form of `texts` a scan must not find: as written and lowercased, in UTF-8 and
    /// UTF-16 of both byte orders.
    static func needles(_ texts: [String]) -> [(String, [UInt8])] {
        texts.flatMap { text in
            Set([text, text.lowercased()]).flatMap { form -> [(String, [UInt8])] in
                let units = Array(form.utf16)
                return [
                    ("\(form) (UTF-8)", Array(form.utf8)),
                    ("\(form) (UTF-16LE)", units.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] }),
                    ("\(form) (UTF-16BE)", units.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] }),
                ]
            }
        }
    }

    /// The needles found in any file under `directory`, each with the file it was found in.
    static func scan(_ directory: URL, for needles: [(String, [UInt8])]) throws -> [String] {
        var hits: [String] = []
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
        for case let file as URL in files {
            guard let bytes = FileManager.default.contents(atPath: file.path) else { continue }
            let haystack = [UInt8](bytes)
            for (name, needle) in needles where contains(haystack, needle) {
                hits.append("\(name) in \(file.lastPathComponent)")
            }
        }
        return hits
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while let start = haystack[index...].firstIndex(of: first) {
            if start + needle.count > haystack.count { return false }
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
            index = start + 1
        }
        return false
    }

    /// XORs `mask` into the byte at `offset` of `path`.
    static func flip(_ path: String, at offset: Int, mask: UInt8 = 0x01) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= mask
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Database page `number` (from 1) of the file at `path`.
    static func page(_ number: Int, of path: String) throws -> [UInt8] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        return Array(bytes[((number - 1) * 4096)..<(number * 4096)])
    }

    /// Writes `page` over database page `number` of the file at `path`.
    static func replacePage(_ number: Int, of path: String, with page: [UInt8]) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.replaceSubrange(((number - 1) * 4096)..<(number * 4096), with: page)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func pageCount(of path: String) throws -> Int {
        try Data(contentsOf: URL(fileURLWithPath: path)).count / 4096
    }
}

/// Adds the scan's phrases to `replica` as the CLI would: stories with titles, bodies and tags,
/// one edited afterwards; then searches, so that the full-text index holds them.
func addSecretStories(to replica: Replica) throws {
    let phrases = ReplicaFiles.phrases
    let first = try replica.add(
        .story, values: ["title": .string(phrases[0]), "body": .string(phrases[2]), "language": "en", "tags": [.string(phrases[4])]])
    try replica.add(
        .story, values: ["title": .string(phrases[2]), "body": .string(phrases[3]), "language": "ko", "tags": [.string(phrases[5])]])
    try replica.edit(first, values: ["body": .string(phrases[1])])
    _ = try replica.search(SearchQuery("Tumen"))
    _ = try replica.search(SearchQuery("하나원에서"))
}
