import HavenCore

/// Builds a stamp from its parts; `replica` must be a valid replica id.
func stamp(_ physical: UInt64, _ counter: UInt16 = 0, _ replica: String) -> Timestamp {
    Timestamp(physical: physical, counter: counter, replica: ReplicaID(replica)!)
}

/// A fixed record id for tests about a single record.
let storyID = "0b1c2d3e-4f50-4617-8899-aabbccddeeff"

/// A partial story state that writes `values`, every register stamped `at`.
func storyEdit(_ values: [String: JSONValue], at stamp: Timestamp, id: String = storyID) -> RecordState {
    RecordState(id: id, kind: .story, fields: values.mapValues { Register($0, stamp: stamp) })
}

/// A partial story state that writes only the `deleted` flag.
func storyFlag(deleted: Bool, at stamp: Timestamp, id: String = storyID) -> RecordState {
    RecordState(id: id, kind: .story, deleted: Register(.bool(deleted), stamp: stamp))
}
