import Foundation
import GRDBSQLite

/// Search rule 1's ranking counted from the text itself, for the searches made while a download's
/// index is deferred (``Replica/search(_:)``): what FTS5's trigram index and its `bm25` would
/// answer, to the last bit, without building the index first.
///
/// Building the index after a first sync of 10,000 records takes seconds; reading the same text
/// once takes tens of milliseconds. So until the index exists, a search reads every document
/// and counts what the index would hold:
/// - a column's size in tokens is its characters less two (one trigram starts at each
///   character but the last two), counted up to a NUL, where the tokenizer stops;
/// - a term is an FTS5 phrase of its trigrams, found wherever its folded characters
///   (``TrigramFold``) occur in a column's folded characters, overlapping occurrences each
///   counting once. Both are compared as UTF-8: a match of whole characters' bytes starts and
///   ends on character boundaries, so counting byte matches counts character matches;
/// - the score is FTS5's `bm25` (`fts5Bm25Function` in SQLite's `fts5_aux.c`), computed with
///   the same operations in the same order, so that equal inputs give equal doubles.
///
/// `SearchScanTests` holds the two to the same results, scores included, on random text.
struct TrigramScan {
    /// Whether the scan counts as this process's SQLite indexes: the trigram tokenizer of
    /// SQLite 3.34 to 3.44, which ends a text at a NUL (3.45 skips it and reads on), and terms
    /// without a NUL (which FTS5 refuses in a query). Otherwise the index is built first.
    static func standsInForIndex(terms: [String]) -> Bool {
        (3_034_000..<3_045_000).contains(sqlite3_libversion_number()) && !terms.contains { $0.contains("\u{0}") }
    }

    /// The terms as FTS5 phrases: each term's folded characters as UTF-8, in query order.
    private let phrases: [[UInt8]]
    /// How much an occurrence in each column counts (`bm25`'s weights), in column order.
    private let weights: [Double]

    /// Documents read, and their sizes in tokens summed (`xRowCount`, `xColumnTotalSize`).
    private var documents: Int64 = 0
    private var tokens: Int64 = 0
    /// For each phrase, how many documents hold it in some column (`bm25`'s `nHit`).
    private var documentsWithPhrase: [Int64]
    /// The documents that hold every phrase: their rowid, each phrase's weighted count, their size.
    private var matches: [(rowid: Int64, frequencies: [Double], size: Int64)] = []
    /// The column being counted, its characters folded, as UTF-8.
    private var folded: [UInt8] = []

    init(terms: [String], weights: [Double]) {
        phrases = terms.map { term in
            var folded: [UInt8] = []
            _ = Array(term.utf8).withUnsafeBytes { Self.fold($0, into: &folded) }
            return folded
        }
        self.weights = weights
        documentsWithPhrase = Array(repeating: 0, count: terms.count)
    }

    /// Counts one document: its columns' UTF-8 text, in the order of `weights`.
    mutating func add(rowid: Int64, columns: [Data]) {
        var frequencies = Array(repeating: 0.0, count: phrases.count)
        var size: Int64 = 0
        for (column, bytes) in columns.enumerated() {
            let characters = bytes.withUnsafeBytes { bytes in Self.fold(bytes, into: &folded) }
            size += Int64(max(0, characters - 2))
            for (index, phrase) in phrases.enumerated() {
                let count = Self.occurrences(of: phrase, in: folded)
                if count > 0 { frequencies[index] += weights[column] * Double(count) }
            }
        }
        documents += 1
        tokens += size
        var holdsAll = true
        for (index, frequency) in frequencies.enumerated() {
            if frequency > 0 { documentsWithPhrase[index] += 1 } else { holdsAll = false }
        }
        if holdsAll { matches.append((rowid, frequencies, size)) }
    }

    /// The `bm25` score of each document holding every phrase, by rowid: lower is better.
    func scores() -> [Int64: Double] {
        // fts5Bm25GetData: an empty index counts as one row.
        let rows = max(documents, 1)
        let averageSize = Double(tokens) / Double(rows)
        let idf = documentsWithPhrase.map { hits in
            // Below zero when most documents hold the phrase: FTS5 then takes a tiny constant.
            let value = log((Double(rows - hits) + 0.5) / (Double(hits) + 0.5))
            return value <= 0.0 ? 1e-6 : value
        }
        let k1 = 1.2
        let b = 0.75
        var scores: [Int64: Double] = [:]
        scores.reserveCapacity(matches.count)
        for match in matches {
            let size = Double(match.size)
            var score = 0.0
            for (index, frequency) in match.frequencies.enumerated() {
                score += idf[index] * ((frequency * (k1 + 1.0)) / (frequency + k1 * (1 - b + b * size / averageSize)))
            }
            scores[match.rowid] = -1.0 * score
        }
        return scores
    }

    /// The characters the trigram tokenizer reads from `bytes` (valid UTF-8, as SQLite text from
    /// Swift is), folded, as UTF-8, up to the first NUL.
    ///
    /// - Returns: how many characters they are.
    @discardableResult
    static func fold(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Int {
        var characters = 0
        // A folded character takes at most half as many bytes again (Ⱥ, 2 bytes, folds to ⱥ, 3).
        output = [UInt8](unsafeUninitializedCapacity: bytes.count + bytes.count / 2 + 4) { out, written in
            var index = 0
            var end = 0
            defer { written = end }
            while index < bytes.count {
                let byte = bytes[index]
                characters += 1
                switch byte {
                case 0:
                    characters -= 1
                    return
                case 0x41...0x5A:
                    out[end] = byte | 0x20
                    end += 1
                    index += 1
                case ..<0x80:
                    out[end] = byte
                    end += 1
                    index += 1
                case 0xE3...0xE9 where index + 2 < bytes.count, 0xEB...0xED where index + 2 < bytes.count:
                    // U+3000–U+9FFF and U+B000–U+DFFF (Chinese, Japanese, Hangul): nothing folds there.
                    out[end] = byte
                    out[end + 1] = bytes[index + 1]
                    out[end + 2] = bytes[index + 2]
                    end += 3
                    index += 3
                default:
                    let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                    var codePoint = UInt32(byte) & (0x7F >> length)
                    for offset in 1..<length where index + offset < bytes.count {
                        codePoint = codePoint << 6 | UInt32(bytes[index + offset] & 0x3F)
                    }
                    end += encode(TrigramFold.fold(codePoint), into: out, at: end)
                    index += length
                }
            }
        }
        return characters
    }

    /// Writes `codePoint` as UTF-8 at `offset`; returns how many bytes it took.
    private static func encode(_ codePoint: UInt32, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        switch codePoint {
        case ..<0x80:
            out[offset] = UInt8(codePoint)
            return 1
        case ..<0x800:
            out[offset] = UInt8(0xC0 | codePoint >> 6)
            out[offset + 1] = UInt8(0x80 | codePoint & 0x3F)
            return 2
        case ..<0x10000:
            out[offset] = UInt8(0xE0 | codePoint >> 12)
            out[offset + 1] = UInt8(0x80 | codePoint >> 6 & 0x3F)
            out[offset + 2] = UInt8(0x80 | codePoint & 0x3F)
            return 3
        default:
            out[offset] = UInt8(0xF0 | codePoint >> 18)
            out[offset + 1] = UInt8(0x80 | codePoint >> 12 & 0x3F)
            out[offset + 2] = UInt8(0x80 | codePoint >> 6 & 0x3F)
            out[offset + 3] = UInt8(0x80 | codePoint & 0x3F)
            return 4
        }
    }

    /// How many times `phrase` starts in `text`, overlapping occurrences included.
    static func occurrences(of phrase: [UInt8], in text: [UInt8]) -> Int {
        guard !phrase.isEmpty, text.count >= phrase.count else { return 0 }
        return phrase.withUnsafeBytes { phrase in
            text.withUnsafeBytes { text in
                // Candidates by their first byte (memchr), then the rest compared (memcmp).
                var count = 0
                var start = 0
                let last = text.count - phrase.count
                let first = Int32(phrase[0])
                while start <= last, let found = memchr(text.baseAddress! + start, first, last - start + 1) {
                    let offset = text.baseAddress!.distance(to: UnsafeRawPointer(found))
                    if memcmp(found, phrase.baseAddress!, phrase.count) == 0 { count += 1 }
                    start = offset + 1
                }
                return count
            }
        }
    }
}
