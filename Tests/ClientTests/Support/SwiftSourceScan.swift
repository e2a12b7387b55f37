import Foundation

/// Haven's own Swift sources read as text, for the tests that check every sentence has its
/// Korean: comments are blanked out, string literals are read without their interpolations.
struct SwiftSourceScan {
    /// One `Words(english, korean: korean)` written in the sources: the text of the string
    /// literals of each argument, each interpolation read as `\u{1}`.
    struct WordsEntry: CustomStringConvertible {
        var file: String
        var line: Int
        var english: String
        var korean: String
        var description: String { "\(file):\(line): \(english.debugDescription) / \(korean.debugDescription)" }
    }

    /// A string literal given straight to `call` (such as `print(` or `help: `).
    struct Literal: CustomStringConvertible {
        var file: String
        var line: Int
        var call: String
        var text: String
        var description: String { "\(file):\(line): \(call)\(text.debugDescription)" }
    }

    /// The package's `Sources` directory, found from this file's place in `Tests`.
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Every `.swift` file under `directory`, by path relative to `Sources`.
    static func files(under directory: URL = sources) throws -> [(path: String, code: [UInt8])] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var found: [(String, [UInt8])] = []
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let path = String(url.path.dropFirst(sources.path.count + 1))
            found.append((path, withoutComments(Array(try Data(contentsOf: url)))))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Every `Words(…, korean: …)` in `code`.
    static func wordsEntries(in code: [UInt8], file: String) -> [WordsEntry] {
        var entries: [WordsEntry] = []
        for start in occurrences(of: "Words(", in: code) {
            guard start == 0 || !isIdentifier(code[start - 1]) else { continue }
            let open = start + 5
            guard let (english, korean, _) = arguments(in: code, from: open) else { continue }
            entries.append(
                WordsEntry(file: file, line: lineNumber(of: start, in: code), english: english, korean: korean))
        }
        return entries
    }

    /// Every string literal written right after one of `calls` in `code`.
    static func literals(after calls: [String], in code: [UInt8], file: String) -> [Literal] {
        var found: [Literal] = []
        for call in calls {
            for start in occurrences(of: call, in: code) {
                guard start == 0 || !isIdentifier(code[start - 1]) || call.first == "." else { continue }
                var index = start + call.utf8.count
                while index < code.count, code[index] == UInt8(ascii: " ") || code[index] == UInt8(ascii: "\n") { index += 1 }
                guard index < code.count, code[index] == UInt8(ascii: "\"") else { continue }
                var text: [UInt8] = []
                _ = skipString(code, index, into: &text)
                found.append(
                    Literal(
                        file: file, line: lineNumber(of: start, in: code), call: call,
                        text: String(decoding: text, as: UTF8.self)))
            }
        }
        return found
    }

    /// Whether `text` holds an English word: three lowercase letters in a row, once
    /// interpolations, quoted names ('haven sync'), options (--limit) and addresses are left out.
    static func hasEnglishWords(_ text: String) -> Bool {
        var rest = text.replacingOccurrences(of: #"'[^']*'"#, with: " ", options: .regularExpression)
        rest = rest.replacingOccurrences(of: #"--[a-z-]+"#, with: " ", options: .regularExpression)
        rest = rest.replacingOccurrences(of: #"[a-z]+://\S*"#, with: " ", options: .regularExpression)
        return rest.range(of: "[a-z]{3,}", options: .regularExpression) != nil
    }

    // MARK: - Reading Swift

    /// `code` with its comments replaced by spaces (newlines kept), strings untouched.
    private static func withoutComments(_ code: [UInt8]) -> [UInt8] {
        var result = code
        var index = 0
        while index < code.count {
            if code[index] == UInt8(ascii: "\"") {
                var ignored: [UInt8] = []
                index = skipString(code, index, into: &ignored)
            } else if starts(code, index, "//") {
                while index < code.count, code[index] != UInt8(ascii: "\n") {
                    result[index] = UInt8(ascii: " ")
                    index += 1
                }
            } else if starts(code, index, "/*") {
                while index < code.count, !starts(code, index, "*/") {
                    if code[index] != UInt8(ascii: "\n") { result[index] = UInt8(ascii: " ") }
                    index += 1
                }
                index += 2
            } else {
                index += 1
            }
        }
        return result
    }

    /// The literal text of the English and Korean arguments of the call whose `(` is at `open`,
    /// and the index after its `)`; nil when it has no `korean:` argument.
    private static func arguments(in code: [UInt8], from open: Int) -> (String, String, Int)? {
        var depth = 0
        var index = open
        var english: [UInt8] = []
        var korean: [UInt8] = []
        var inKorean = false
        while index < code.count {
            let byte = code[index]
            if byte == UInt8(ascii: "\"") {
                var text: [UInt8] = []
                index = skipString(code, index, into: &text)
                if inKorean { korean += text } else { english += text }
                continue
            }
            if byte == UInt8(ascii: "(") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: ")") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 {
                    guard inKorean else { return nil }
                    return (String(decoding: english, as: UTF8.self), String(decoding: korean, as: UTF8.self), index + 1)
                }
            }
            if depth == 1, starts(code, index, "korean:"), index > 0, !isIdentifier(code[index - 1]) { inKorean = true }
            index += 1
        }
        return nil
    }

    /// Skips the string literal starting at `start` (a `"` or `"""`), appending its text to
    /// `text` with each interpolation as `\u{1}`; returns the index after it.
    private static func skipString(_ code: [UInt8], _ start: Int, into text: inout [UInt8]) -> Int {
        let multiline = starts(code, start, "\"\"\"")
        var index = start + (multiline ? 3 : 1)
        while index < code.count {
            let byte = code[index]
            if byte == UInt8(ascii: "\\") {
                if starts(code, index + 1, "(") {
                    index = skipInterpolation(code, index + 1)
                    text.append(1)
                    continue
                }
                if multiline, index + 1 < code.count, code[index + 1] == UInt8(ascii: "\n") {
                    index += 2  // a line continued: the words go on
                    text.append(UInt8(ascii: " "))
                    continue
                }
                text.append(code[index + 1])
                index += 2
                continue
            }
            if multiline ? starts(code, index, "\"\"\"") : byte == UInt8(ascii: "\"") {
                return index + (multiline ? 3 : 1)
            }
            text.append(byte)
            index += 1
        }
        return index
    }

    /// Skips `(…)` of an interpolation, strings inside it included; returns the index after it.
    private static func skipInterpolation(_ code: [UInt8], _ open: Int) -> Int {
        var depth = 0
        var index = open
        while index < code.count {
            if code[index] == UInt8(ascii: "\"") {
                var ignored: [UInt8] = []
                index = skipString(code, index, into: &ignored)
                continue
            }
            if code[index] == UInt8(ascii: "(") { depth += 1 }
            if code[index] == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { return index + 1 }
            }
            index += 1
        }
        return index
    }

    private static func occurrences(of needle: String, in code: [UInt8]) -> [Int] {
        let pattern = Array(needle.utf8)
        guard code.count >= pattern.count else { return [] }
        return (0...(code.count - pattern.count)).filter { starts(code, $0, pattern) }
    }

    private static func starts(_ code: [UInt8], _ index: Int, _ prefix: String) -> Bool {
        starts(code, index, Array(prefix.utf8))
    }

    private static func starts(_ code: [UInt8], _ index: Int, _ prefix: [UInt8]) -> Bool {
        guard index + prefix.count <= code.count else { return false }
        for offset in prefix.indices where code[index + offset] != prefix[offset] { return false }
        return true
    }

    private static func isIdentifier(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    private static func lineNumber(of index: Int, in code: [UInt8]) -> Int {
        code[..<index].reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }
}
