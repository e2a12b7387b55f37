/// Whether `text` holds Hangul syllables: a sentence said in Korean (LANG=ko_KR.UTF-8), where
/// English has none.
public func hasHangul(_ text: String) -> Bool {
    text.unicodeScalars.contains { (0xAC00...0xD7A3).contains($0.value) }
}
