import HavenCore

extension Account {
    /// The server's word on the token, refused when it is not what a Haven server sends (a name
    /// of 1 to 200 characters, limits of at least 1) and held to what a client keeps
    /// (``ServerLimits/boundedRecordBytes``): a broken or hostile server can neither crash the
    /// client with it nor make it keep edits its own answers could not carry.
    ///
    /// - Throws: ``ServerAPI/UnreadableAnswer`` naming what was wrong.
    func checked() throws -> Account {
        guard (1...200).contains(name.count) else {
            throw ServerAPI.UnreadableAnswer(reason: "name: must have 1 to 200 characters")
        }
        let numbers = [
            ("recordBytes", limits.recordBytes), ("requestBytes", limits.requestBytes),
            ("batchChanges", limits.batchChanges), ("pageRecords", limits.pageRecords),
            ("nestingDepth", limits.nestingDepth),
        ]
        if let (field, _) = numbers.first(where: { $0.1 < 1 }) {
            throw ServerAPI.UnreadableAnswer(reason: "limits.\(field): must be at least 1")
        }
        if let fingerprint, !Self.isFingerprint(fingerprint) {
            throw ServerAPI.UnreadableAnswer(reason: "fingerprint: must be 1 to 64 letters and digits")
        }
        var checked = self
        checked.limits.recordBytes = limits.boundedRecordBytes
        return checked
    }

    /// Whether `text` can be a fingerprint (in an answer or its `Haven-Account` header): 1 to 64
    /// ASCII letters and digits, so that a hostile server stores nothing else through it.
    static func isFingerprint(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }
}
