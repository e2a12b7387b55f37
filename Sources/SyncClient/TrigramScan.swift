import Foundation

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
///   counting once;
/// - the score is FTS5's `bm25` (`fts5Bm25Function` in SQLite's `fts5_aux.c`), computed with
///   the same operations in the same order, so that equal inputs give equal doubles.
///
/// `SearchTests` holds the two to the same results, scores included, on random text.
struct TrigramScan {
    /// The terms as FTS5 phrases: each term's folded code points, in query order.
    private let phrases: [[UInt32]]
    /// How much an occurrence in each column counts (`bm25`'s weights), in column order.
    private let weights: [Double]

    /// Documents read, and their sizes in tokens summed (`xRowCount`, `xColumnTotalSize`).
    private var documents: Int64 = 0
    private var tokens: Int64 = 0
    /// For each phrase, how many documents hold it in some column (`bm25`'s `nHit`).
    private var documentsWithPhrase: [Int64]
    /// The documents that hold every phrase: their rowid, each phrase's weighted count, their size.
    private var matches: [(rowid: Int64, frequencies: [Double], size: Int64)] = []
    /// One column's folded code points, reused from column to column.
    private var folded: [UInt32] = []

    init(terms: [String], weights: [Double]) {
        phrases = terms.map { term in Self.fold(Array(term.utf8)) }
        self.weights = weights
        documentsWithPhrase = Array(repeating: 0, count: terms.count)
    }

    /// Counts one document: its columns' UTF-8 text, in the order of `weights`.
    mutating func add(rowid: Int64, columns: [Data]) {
        var frequencies = Array(repeating: 0.0, count: phrases.count)
        var size: Int64 = 0
        for (column, bytes) in columns.enumerated() {
            bytes.withUnsafeBytes { bytes in Self.fold(bytes, into: &folded) }
            size += Int64(max(0, folded.count - 2))
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

    /// The code points the trigram tokenizer reads from `bytes` (valid UTF-8, as SQLite text
    /// from Swift is), folded, up to the first NUL.
    static func fold(_ bytes: some Collection<UInt8>, into output: inout [UInt32]) {
        output.removeAll(keepingCapacity: true)
        var codePoint: UInt32 = 0
        var pending = 0
        for byte in bytes {
            if pending > 0 {
                codePoint = codePoint << 6 | UInt32(byte & 0x3F)
                pending -= 1
                if pending == 0 { output.append(TrigramFold.fold(codePoint)) }
                continue
            }
            switch byte {
            case 0: return
            case ..<0x80: output.append(TrigramFold.fold(UInt32(byte)))
            case 0xF0...: codePoint = UInt32(byte & 0x07); pending = 3
            case 0xE0...: codePoint = UInt32(byte & 0x0F); pending = 2
            default: codePoint = UInt32(byte & 0x1F); pending = 1
            }
        }
    }

    private static func fold(_ bytes: [UInt8]) -> [UInt32] {
        var output: [UInt32] = []
        fold(bytes, into: &output)
        return output
    }

    /// How many times `phrase` starts in `text`, overlapping occurrences included.
    static func occurrences(of phrase: [UInt32], in text: [UInt32]) -> Int {
        guard let first = phrase.first, text.count >= phrase.count else { return 0 }
        return phrase.withUnsafeBufferPointer { phrase in
            text.withUnsafeBufferPointer { text in
                var count = 0
                for start in 0...(text.count - phrase.count) where text[start] == first {
                    var offset = 1
                    while offset < phrase.count, text[start + offset] == phrase[offset] { offset += 1 }
                    if offset == phrase.count { count += 1 }
                }
                return count
            }
        }
    }
}
