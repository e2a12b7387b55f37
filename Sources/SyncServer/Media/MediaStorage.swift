import HavenCore

/// What ``MediaLibrary`` needs from a database: the rows of blobs, uploads and the bytes of
/// both, kept in chunks in the database itself, so that every server instance on one PostgreSQL
/// database serves the same files. Nothing about who may do what is decided here.
///
/// Rules every implementation keeps:
/// 1. A blob's bytes are stored once under its id, whoever uploaded them (deduplicated); an
///    upload's bytes are stored under its ``MediaKey/upload(token:blob:)`` key until it completes.
/// 2. ``appendUpload(blob:token:at:_:)`` appends only at the end of what the upload holds, in one
///    transaction with the new end: two requests racing cannot both write at one offset.
/// 3. ``completeUpload(blob:token:now:)`` makes the blob visible and records its uploader in one
///    transaction; the caller has verified the hash before.
package protocol MediaStorage: Sendable {
    /// Reads the caller's upload of `blob` and what the caller already holds, calls `decide`, and
    /// stores the upload it returns when it is new, in one transaction.
    ///
    /// - Parameter now: when a new upload is opened, milliseconds since 1970.
    func openUpload(
        blob: String, token: String, now: UInt64, decide: @escaping @Sendable (UploadRows) throws -> UploadState
    ) async throws -> UploadState

    /// Appends `bytes` to the caller's upload of `blob` if it holds exactly `offset` bytes.
    func appendUpload(blob: String, token: String, at offset: Int64, _ bytes: [UInt8]) async throws -> AppendOutcome

    /// The stored bytes under `key` from `start` up to `end` (exclusive), in order.
    func bytes(of key: MediaKey, from start: Int64, to end: Int64) async throws -> [UInt8]

    /// Makes the caller's finished upload of `blob` the blob (or drops its bytes when the blob is
    /// stored already) and records the caller as one of its uploaders (rule 3).
    func completeUpload(blob: String, token: String, now: UInt64) async throws

    /// Deletes the caller's upload of `blob` and its bytes.
    func discardUpload(blob: String, token: String) async throws

    /// The blob's size and the records that refer to it now; nil when no such blob is complete.
    func blobRows(_ blob: String) async throws -> BlobRows?
}

/// Where the bytes of a blob or of an upload under way are kept.
package enum MediaKey: Sendable, Hashable {
    case blob(String)
    case upload(token: String, blob: String)

    /// The text of the `key` column.
    package var stored: String {
        switch self {
        case .blob(let id): id
        case .upload(let token, let blob): "upload/\(token)/\(blob)"
        }
    }
}

/// What opening an upload is decided from.
package struct UploadRows: Sendable {
    /// The caller's upload of the blob, if one was opened (or completed) before.
    package var existing: UploadState?
    /// Bytes of media the caller holds: blobs it uploaded and the sizes of its open uploads.
    package var usedBytes: Int64
}

/// One upload as stored: the file's size and how many bytes the server holds.
package struct UploadState: Sendable, Hashable {
    package var size: Int64
    package var received: Int64
    /// Whether the caller uploaded the whole blob and it was verified.
    package var complete: Bool

    package init(size: Int64, received: Int64, complete: Bool) {
        self.size = size
        self.received = received
        self.complete = complete
    }
}

/// What an append did.
package enum AppendOutcome: Sendable, Hashable {
    /// The bytes were stored; the upload now holds this many.
    case appended(Int64)
    /// The upload holds another number of bytes than the request's offset: this many.
    case mismatch(Int64)
    /// The caller has no such upload open.
    case noUpload
    /// The bytes would run past the file's size, this many bytes.
    case pastEnd(Int64)
}

/// A stored blob and the records that refer to it.
package struct BlobRows: Sendable {
    package var size: Int64
    package var records: [StoredRecord]
}

/// The rows a media collection decides from, read in the compaction's transaction.
package struct MediaCollectionRows: Sendable {
    /// Blobs no record refers to, with when they were first seen so (nil: not yet marked).
    package var unreferenced: [(id: String, since: UInt64?)] = []
    /// Blobs the records purged by this compaction referred to.
    package var purgedRecordBlobs: Set<String> = []
}
