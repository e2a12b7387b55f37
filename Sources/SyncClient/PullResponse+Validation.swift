import HavenCore

extension PullResponse {
    /// Checks every record of the page against the schema the server checks pushes with, before
    /// any of it is stored (DESIGN §7: a broken or hostile server must not make a replica hold
    /// records the schema forbids). Whether a record has every required field is not checked
    /// here: a delta holds only the registers that changed.
    ///
    /// - Throws: ``ProtocolViolation`` naming the first record at fault and what is wrong with it.
    func validate() throws(ProtocolViolation) {
        for record in changes {
            do {
                try RecordSchema.validateRegisters(of: record)
            } catch {
                throw .invalidRecord(record.kind, record.id, error.words)
            }
        }
        if let id = removed.first(where: { !RecordID.isValid($0) }) {
            throw .invalidRemovedID(id)
        }
    }
}
