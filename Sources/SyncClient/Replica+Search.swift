import Foundation
import GRDB
import HavenCore

/// Full-text search over the replica's visible records (DESIGN §5).
///
/// The searchable text of each record lives in `search_documents`: one row per visible record,
/// kept in step with `records` by triggers, so every write of a record (a local edit, a pulled
/// page, a record dropped by sync) updates it in the same transaction, whichever code path
/// does the write. `search_index` is an FTS5 index over it with the trigram tokenizer, which
/// matches any substring of three characters or more in any script: Korean and Chinese text has
/// no spaces between words for a word tokenizer to find.
///
/// Search follows three rules:
/// 1. Terms of three characters or more are matched through the index and ranked by bm25, a
///    match in a title (or name) weighing more than one in a summary, and that more than one in
///    a body (or description).
/// 2. Shorter terms, such as the two-syllable Korean "탈북", cannot be looked up by trigrams: they
///    are matched as substrings of the same text, ranked by where they occur (title, summary,
///    body) and then how often.
/// 3. Deleted records are not in the index at all; a restored record comes back into it.
///
/// Indexing is by far the dearest part of storing a record: trigrams of a 4 KB story make the
/// first sync of 10,000 records about 20 times slower than storing them (BENCHMARKS.md). So a
/// download of everything (a first sync, or after `410`) only fills `search_documents`, and the
/// index is built in one pass, which is also faster than row by row, when the app asks
/// (``buildDeferredSearchIndex()``; `haven search` asks once it has answered). Until then a search
/// reads the text and ranks it exactly as the index would (`TrigramScan`).
extension Replica {
    /// Records whose title, summary or body (a resource's name or description) contain every term
    /// of `query`, best first.
    ///
    /// For example:
    /// ```swift
    /// let hits = try replica.search(SearchQuery("탈북 여성", kind: .story, language: "ko"))
    /// ```
    ///
    /// - Returns: at most `query.limit` results; none when the query has no terms.
    public func search(_ query: SearchQuery) throws -> [SearchResult] {
        let terms = query.terms
        guard !terms.isEmpty, query.limit > 0 else { return [] }
        let indexed = terms.filter { $0.unicodeScalars.count >= Self.trigramLength }
        let scanned = terms.filter { $0.unicodeScalars.count < Self.trigramLength }
        if !indexed.isEmpty, !TrigramScan.standsInForIndex(terms: indexed) { try buildDeferredSearchIndex() }
        return try database.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            var source = "search_documents AS d"
            var docid = "d.docid"
            var score: String
            var scanScores: [Int64: Double]?
            if indexed.isEmpty {
                // Rule 2: a substring scan, weighted like the index's columns.
                score = scanned.map { _ in
                    Self.weightedFields.map { field, weight in "\(weight) * (d.\(field) LIKE ? ESCAPE '\\')" }
                        .joined(separator: " + ")
                }.joined(separator: " + ")
                for term in scanned { arguments += StatementArguments(Array(repeating: Self.likePattern(term), count: 3)) }
                score = "-(\(score))"
            } else if try Self.isSearchIndexDeferred(db) {
                // Rule 1 before the index exists: the scores it would give, counted from the text.
                let scores = try Self.scanScores(db, terms: indexed)
                scanScores = scores
                conditions.append("d.docid IN (SELECT value FROM json_each(?))")
                arguments += [String(decoding: try JSONEncoder().encode(Array(scores.keys)), as: UTF8.self)]
                score = "\(Self.scanScoreFunction)(d.docid)"
            } else {
                // Rule 1: bm25 is lower for better matches. Without a condition on the documents, the
                // hits need not be looked up in them until the last step.
                let filtered = !scanned.isEmpty || query.kind != nil || query.language != nil
                source = filtered ? "search_index JOIN search_documents AS d ON d.docid = search_index.rowid" : "search_index"
                docid = "search_index.rowid"
                conditions.append("search_index MATCH ?")
                arguments += [indexed.map(Self.phrase).joined(separator: " AND ")]
                score = "bm25(search_index, \(Self.weightedFields.map { "\($0.weight).0" }.joined(separator: ", ")))"
            }
            for term in scanned {
                conditions.append(
                    "(d.title LIKE ? ESCAPE '\\' OR d.summary LIKE ? ESCAPE '\\' OR d.body LIKE ? ESCAPE '\\')")
                arguments += StatementArguments(Array(repeating: Self.likePattern(term), count: 3))
            }
            if let kind = query.kind {
                conditions.append("d.kind = ?")
                arguments += [kind.rawValue]
            }
            if let language = query.language {
                // "zh" finds "zh-Hant" too.
                conditions.append(
                    "EXISTS (SELECT 1 FROM json_each(d.languages) AS l WHERE lower(l.value) = lower(?) OR lower(l.value) LIKE lower(?) || '-%')"
                )
                arguments += [language, language]
            }
            // Among equal scores, the record mentioning the terms more often in its body comes first.
            let occurrence = "(length(d.body) - length(replace(lower(d.body), lower(?), ''))) / length(?)"
            let occurrences = Array(repeating: occurrence, count: terms.count).joined(separator: " + ")
            var orderArguments: StatementArguments = []
            for term in terms { orderArguments += [term, term] }
            // Scores first, in one pass over the hits; then only the hits that score as well as the
            // last result or better (ties included, so the order below sees every candidate) are
            // read whole, counted and ordered. Counting occurrences and reading the text and the
            // status of every hit took most of a search's time (BENCHMARKS.md, section 6).
            let sql = """
                WITH hits AS MATERIALIZED (
                    SELECT \(docid) AS docid, \(score) AS score
                    FROM \(source)
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))),
                cutoff AS (SELECT score FROM hits ORDER BY score LIMIT 1 OFFSET ?)
                SELECT d.record_id, d.kind, d.languages, d.title, d.summary, d.body, h.score AS score,
                    (SELECT json_extract(r.state, '$.fields.status.value') FROM records r WHERE r.id = d.record_id) AS status
                FROM hits AS h JOIN search_documents AS d ON d.docid = h.docid
                WHERE NOT EXISTS (SELECT 1 FROM cutoff) OR h.score IS NULL OR h.score <= (SELECT score FROM cutoff)
                ORDER BY score, \(occurrences) DESC, d.title, d.record_id
                LIMIT ?
                """
            arguments += [query.limit - 1]
            let function = scanScores.map { scores in
                DatabaseFunction(Self.scanScoreFunction, argumentCount: 1, pure: true) { values in
                    Int64.fromDatabaseValue(values[0]).flatMap { scores[$0] }
                }
            }
            if let function { db.add(function: function) }
            defer { if let function { db.remove(function: function) } }
            return try Row.fetchAll(db, sql: sql, arguments: arguments + orderArguments + [query.limit]).map { row in
                let title: String = row["title"]
                let summary: String = row["summary"]
                let body: String = row["body"]
                return SearchResult(
                    id: row["record_id"], kind: RecordKind(rawValue: row["kind"] as String) ?? .story,
                    languages: (try? Self.decode([String].self, row["languages"])) ?? [], status: row["status"], title: title,
                    snippet: Snippet.make(from: [summary, body], terms: terms), score: row["score"])
            }
        }
    }

    /// The SQL function that hands a scan's scores to the query, for the span of one search.
    private static let scanScoreFunction = "haven_search_scan_score"

    /// Rule 1's scores read from every document, by `docid`, for the documents holding every term.
    private static func scanScores(_ db: Database, terms: [String]) throws -> [Int64: Double] {
        var scan = TrigramScan(terms: terms, weights: weightedFields.map { Double($0.weight) })
        let columns = weightedFields.map(\.0).joined(separator: ", ")
        let rows = try Row.fetchCursor(db, sql: "SELECT docid, \(columns) FROM search_documents")
        while let row = try rows.next() {
            let rowid: Int64 = row[0]
            try row.withUnsafeData(atIndex: 1) { title in
                try row.withUnsafeData(atIndex: 2) { summary in
                    try row.withUnsafeData(atIndex: 3) { body in
                        scan.add(rowid: rowid, columns: [title ?? Data(), summary ?? Data(), body ?? Data()])
                    }
                }
            }
        }
        return scan.scores()
    }

    /// Trigrams: the shortest term the index can look up.
    static let trigramLength = 3

    /// Search columns and how much a match in each counts.
    private static let weightedFields: [(String, weight: Int)] = [("title", 10), ("summary", 4), ("body", 1)]

    /// A term as an FTS5 phrase: quoted, so that its characters are never read as query syntax.
    private static func phrase(_ term: String) -> String {
        "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A LIKE pattern matching `term` anywhere, its own `%`, `_` and `\` taken literally.
    private static func likePattern(_ term: String) -> String {
        let escaped = term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return "%" + escaped + "%"
    }

    /// Migration "v2": the search tables and triggers, filled from the records already held.
    static func createSearchIndex(_ db: Database) throws {
        func document(_ row: String) -> String {
            """
            \(row).id, \(row).kind,
            CASE \(row).kind
                WHEN 'story' THEN CASE WHEN json_type(\(row).state, '$.fields.language.value') = 'text'
                    THEN json_array(json_extract(\(row).state, '$.fields.language.value')) ELSE '[]' END
                ELSE CASE WHEN json_type(\(row).state, '$.fields.languages.value') = 'array'
                    THEN json_extract(\(row).state, '$.fields.languages.value') ELSE '[]' END
            END,
            \(text(row, story: "title", resource: "name")),
            \(text(row, story: "summary", resource: nil)),
            \(text(row, story: "body", resource: "description"))
            """
        }
        func text(_ row: String, story: String, resource: String?) -> String {
            let resourceText = resource.map { "json_extract(\(row).state, '$.fields.\($0).value')" } ?? "NULL"
            return """
                coalesce(CASE \(row).kind WHEN 'story' THEN json_extract(\(row).state, '$.fields.\(story).value')
                    ELSE \(resourceText) END, '')
                """
        }
        let columns = "record_id, kind, languages, title, summary, body"
        try db.execute(
            sql: """
                -- The searchable text of each visible record; a resource's name is its title and its
                -- description its body. 'languages' is a JSON array of language tags.
                CREATE TABLE search_documents (
                    docid INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                    languages TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL);
                CREATE VIRTUAL TABLE search_index USING fts5(
                    title, summary, body, content = 'search_documents', content_rowid = 'docid', tokenize = 'trigram');

                CREATE TRIGGER records_search_insert AFTER INSERT ON records WHEN new.deleted = 0 BEGIN
                    INSERT INTO search_documents (\(columns)) SELECT \(document("new"));
                END;
                CREATE TRIGGER records_search_update AFTER UPDATE OF id, kind, state, deleted ON records
                WHEN old.id IS NOT new.id OR old.kind IS NOT new.kind OR old.state IS NOT new.state
                    OR old.deleted IS NOT new.deleted
                BEGIN
                    DELETE FROM search_documents WHERE record_id = old.id;
                    INSERT INTO search_documents (\(columns)) SELECT \(document("new")) WHERE new.deleted = 0;
                END;
                CREATE TRIGGER records_search_delete AFTER DELETE ON records BEGIN
                    DELETE FROM search_documents WHERE record_id = old.id;
                END;
                """)
        try db.execute(sql: indexTriggers)
        try db.execute(
            sql: "INSERT INTO search_documents (\(columns)) SELECT \(document("records")) FROM records WHERE deleted = 0")
    }

    /// The triggers that keep `search_index` in step with `search_documents`, row by row.
    private static let indexTriggers = """
        CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN
            INSERT INTO search_index (rowid, title, summary, body) VALUES (new.docid, new.title, new.summary, new.body);
        END;
        CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN
            INSERT INTO search_index (search_index, rowid, title, summary, body)
            VALUES ('delete', old.docid, old.title, old.summary, old.body);
        END;
        CREATE TRIGGER search_documents_update AFTER UPDATE ON search_documents BEGIN
            INSERT INTO search_index (search_index, rowid, title, summary, body)
            VALUES ('delete', old.docid, old.title, old.summary, old.body);
            INSERT INTO search_index (rowid, title, summary, body) VALUES (new.docid, new.title, new.summary, new.body);
        END;
        """

    /// Stops indexing row by row until ``buildDeferredSearchIndex()``: called in the transaction
    /// that applies the first page of a download of everything.
    static func deferSearchIndex(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TRIGGER IF EXISTS search_documents_insert;
                DROP TRIGGER IF EXISTS search_documents_delete;
                DROP TRIGGER IF EXISTS search_documents_update;
                """)
        try ReplicaSettings.set(db, .searchIndexDeferred, "1")
    }

    /// Whether the index waits to be built (``buildDeferredSearchIndex()``); searches meanwhile
    /// read the text.
    public func isSearchIndexDeferred() throws -> Bool {
        try database.read(Self.isSearchIndexDeferred)
    }

    private static func isSearchIndexDeferred(_ db: Database) throws -> Bool {
        try String.fetchOne(
            db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [ReplicaSettings.Key.searchIndexDeferred.rawValue])
            != nil
    }

    /// Builds the index from `search_documents` in one pass if a download deferred it, and
    /// indexes row by row again from then on, in one transaction.
    ///
    /// Searches answer before it is built, by reading the text (tens of milliseconds for 10,000
    /// records, against a few through the index); building it takes seconds for tens of thousands
    /// of records and holds the replica's write lock meanwhile, so call it when nobody is typing,
    /// for example after a first sync or once a search has been shown.
    ///
    /// - Returns: how many documents were indexed; 0 when the index was up to date.
    @discardableResult
    public func buildDeferredSearchIndex() throws -> Int {
        guard try isSearchIndexDeferred() else { return 0 }
        return try database.write { db in
            // Asked again inside the write: another process may have built it meanwhile.
            guard try Self.isSearchIndexDeferred(db) else { return 0 }
            try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('rebuild')")
            try db.execute(sql: Self.indexTriggers)
            try ReplicaSettings.set(db, .searchIndexDeferred, nil)
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM search_documents") ?? 0
        }
    }
}

/// What to search for, and where.
public struct SearchQuery: Sendable, Hashable {
    /// Words to find, all of them; "double quotes" keep words together as one term.
    public var text: String
    /// Only records of this kind; nil for both.
    public var kind: RecordKind?
    /// A language tag: a story's language, or one of a resource's languages (`zh` finds `zh-Hant`).
    public var language: String?
    /// At most this many results, best first.
    public var limit: Int

    /// A search for `text`, in records of `kind` and `language` when given, best `limit` first.
    public init(_ text: String, kind: RecordKind? = nil, language: String? = nil, limit: Int = 20) {
        self.text = text
        self.kind = kind
        self.language = language
        self.limit = limit
    }

    /// The terms of the query as the index splits them (HavenCore's `SearchTerms`); empty when there is nothing to search.
    public var terms: [String] { SearchTerms.split(text) }
}

/// One record found by ``Replica/search(_:)``.
public struct SearchResult: Sendable, Hashable, Codable {
    /// The record's id.
    public var id: String
    /// Whether it is a story or a resource.
    public var kind: RecordKind
    /// A story's language, or a resource's languages.
    public var languages: [String]
    /// draft, review or published; nil when the record has none.
    public var status: String?
    /// A story's title or a resource's name.
    public var title: String
    /// A line of text around the first match.
    public var snippet: String
    /// Lower is better; comparable only within one search.
    public var score: Double
    /// True when no verified signature covers the record (left out otherwise).
    public var unverified: Bool? = nil
}

/// Short excerpts around a match, on one line.
enum Snippet {
    /// Characters of context before and after the match.
    static let before = 30
    static let after = 60

    /// The text around the first of `terms` in the first of `texts` that holds one, or else (the
    /// match was in the title) the start of the first non-empty text.
    static func make(from texts: [String], terms: [String]) -> String {
        for text in texts {
            let hit = terms.lazy.compactMap { text.range(of: $0, options: [.caseInsensitive]) }.min {
                $0.lowerBound < $1.lowerBound
            }
            guard let hit else { continue }
            let start = text.index(hit.lowerBound, offsetBy: -before, limitedBy: text.startIndex) ?? text.startIndex
            let end = text.index(hit.upperBound, offsetBy: after, limitedBy: text.endIndex) ?? text.endIndex
            return (start > text.startIndex ? "…" : "") + oneLine(text[start..<end]) + (end < text.endIndex ? "…" : "")
        }
        guard let text = texts.first(where: { !$0.isEmpty }) else { return "" }
        let end = text.index(text.startIndex, offsetBy: before + after, limitedBy: text.endIndex) ?? text.endIndex
        return oneLine(text[..<end]) + (end < text.endIndex ? "…" : "")
    }

    private static func oneLine(_ text: Substring) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
