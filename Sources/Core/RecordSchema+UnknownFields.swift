/// Unknown field names are kept (RecordSchema), but most of them are typos: `phnoe` for `phone`.
/// Import and the edit commands warn about them, naming the field meant.
extension RecordSchema {
    /// A warning for `name` when this version does not know it for `kind`, nil when it does, in
    /// the language of this task.
    ///
    /// For example: `"unknown field 'phnoe' for a resource (did you mean 'phone'?): kept as it is"`.
    public static func unknownFieldNote(_ name: String, kind: RecordKind) -> String? {
        let known = knownFields(of: kind)
        guard !known.contains(name) else { return nil }
        guard let nearest = nearestKnownField(to: name, kind: kind) else {
            return Words(
                "unknown field '\(name)' for a \(kind): kept as it is",
                korean: "\(kind.noun.korean)(\(kind))에 없는 필드입니다: '\(name)'. 그대로 둡니다"
            ).text
        }
        return Words(
            "unknown field '\(name)' for a \(kind) (did you mean '\(nearest)'?): kept as it is",
            korean: "\(kind.noun.korean)(\(kind))에 없는 필드입니다: '\(name)' ('\(nearest)'의 오타인가요?). 그대로 둡니다"
        ).text
    }

    /// The known field closest to `name`, when a few edits (or a change of case) turn one into the other.
    static func nearestKnownField(to name: String, kind: RecordKind) -> String? {
        let lowered = Array(name.lowercased())
        let scored = knownFields(of: kind).map { ($0, editDistance(lowered, Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, min(3, best.0.count / 3)) ? best.0 : nil
    }

    /// Levenshtein distance, with a swap of two neighbours counted as one edit.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            previous2 = previous
            previous = current
        }
        return previous[b.count]
    }
}
