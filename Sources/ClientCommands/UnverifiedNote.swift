import HavenClient
import HavenCore

/// What every read command says when it shows a record no verified signature covers
/// (Replica+Verification.swift, rule 3): the mark beside it, and a sentence after the list.
enum UnverifiedNote {
    /// The mark shown beside an unverified record.
    static let mark = Words("(UNVERIFIED)", korean: "(확인되지 않음)")

    /// The sentence after a list showing `count` unverified records; nil when there are none.
    static func sentence(count: Int) -> Words? {
        guard count > 0 else { return nil }
        return Words(
            "\(count) record(s) shown are UNVERIFIED: they did not match the publisher's signature and may have been "
                + "altered; do not rely on them ('haven status', 'haven sync' tries again)",
            korean: "보인 기록 중 \(count)개는 확인되지 않았습니다: 게시자의 서명과 맞지 않아 바뀌었을 수 있습니다. "
                + "믿지 마세요 ('haven status', 'haven sync'로 다시 시도합니다)")
    }
}
