import HavenCore

/// A record as the replica stores it, its row's text (`Replica.json(_:)`) and the seed of its
/// published-set element, kept beside the row so that the digest's refresh after a push reads 32
/// bytes instead of decoding the record (Replica+PublishedSet.swift).
///
/// A deleted record keeps its registers' delete flag only. Content deleted because it
/// endangers someone must not stay on a device that may be searched; a restore brings it back
/// from the server, which sends a restored record whole.
struct StoredRecord: Sendable {
    let state: RecordState
    let row: String
    /// Nil outside the published set.
    let seed: [UInt8]?

    init(_ record: RecordState) throws {
        var record = record
        if record.isDeleted { record.fields = [:] }
        state = record
        row = try Replica.json(record)
        seed = Replica.elementSeed(of: record)
    }
}

/// A pulled page, with what each record it brings would be stored as if it is new on the
/// replica: its delta alone, as a ``StoredRecord``. In a first sync every record is new; a
/// record the replica holds already is merged where it is stored, and these go unused.
package struct PulledPage: Sendable {
    package let response: PullResponse
    /// For each of `response.changes`, in order.
    let newRecords: [StoredRecord]

    package init(_ response: PullResponse) throws {
        self.response = response
        newRecords = try response.changes.map(StoredRecord.init)
    }
}
