import Crypto
import HavenCore

/// The server's media rules, written once for every backend over a ``MediaStorage`` (issue 17).
///
/// Rule 1. An upload belongs to the token that opened it, one per blob id: no token learns from
/// an upload whether another already stored the same bytes. Opening it again answers where it
/// stands, so a client resumes from the server's offset.
///
/// Rule 2. A file larger than ``MediaLimits/fileBytes``, or one that would take the token's
/// media past ``MediaLimits/quotaBytes``, is refused before a byte is sent.
///
/// Rule 3. Bytes are appended only at the offset the server holds; another offset is answered
/// with the server's, and nothing is written.
///
/// Rule 4. When an upload holds the whole file its bytes are hashed; only when the hash is the
/// blob id does the blob become complete, and visible to pushes that name it. Otherwise the
/// upload is discarded.
///
/// Rule 5. A blob is served only to a caller who may see a record, not deleted, that names it
/// (``Visibility``); to anyone else it does not exist (404, never 403).
package struct MediaLibrary: Sendable {
    package let storage: any MediaStorage
    package let limits: MediaLimits

    package init(storage: any MediaStorage, limits: MediaLimits = MediaLimits()) {
        self.storage = storage
        self.limits = limits
    }

    /// Opens the caller's upload of a file, or answers where it stands (rules 1 and 2).
    package func open(_ request: MediaUploadRequest, by caller: Caller, now: UInt64) async throws -> MediaUpload {
        guard MediaReference.isBlobID(request.id) else {
            throw APIError.badRequest(.invalidJSON, "id: must be the SHA-256 of the file, 64 lowercase hex digits")
        }
        guard request.size >= 1 else { throw APIError.badRequest(.invalidJSON, "size: must be at least 1 byte") }
        let limits = self.limits
        guard request.size <= limits.fileBytes else {
            throw APIError(
                .contentTooLarge, code: .mediaTooLarge,
                message: "media file \(request.id): \(request.size) bytes, this server stores files of at most \(limits.fileBytes)")
        }
        let state = try await storage.openUpload(blob: request.id, token: caller.tokenID, now: now) { rows in
            if let existing = rows.existing {
                guard existing.size == request.size else {
                    throw APIError(
                        .conflict, code: .offsetMismatch,
                        message: "media file \(request.id): an upload of \(existing.size) bytes is open under this id, not \(request.size): a file's size follows from its hash")
                }
                return existing
            }
            guard rows.usedBytes + request.size <= limits.quotaBytes else {
                throw APIError(
                    .contentTooLarge, code: .mediaTooLarge,
                    message: "media file \(request.id): \(request.size) bytes would take this account past its quota of \(limits.quotaBytes) bytes (\(rows.usedBytes) used): ask an admin")
            }
            return UploadState(size: request.size, received: 0, complete: false)
        }
        return MediaUpload(id: request.id, size: state.size, offset: state.received, complete: state.complete)
    }

    /// Appends one piece of an upload at `offset` (rule 3).
    ///
    /// - Returns: the offset after the piece.
    /// - Throws: `409 offset_mismatch` with the server's offset, or `404` when no upload is open.
    package func append(_ bytes: [UInt8], to blob: String, at offset: Int64, by caller: Caller) async throws -> Int64 {
        switch try await storage.appendUpload(blob: blob, token: caller.tokenID, at: offset, bytes) {
        case .appended(let end): return end
        case .mismatch(let held): throw Self.mismatch(blob, offset: offset, held: held)
        case .noUpload: throw Self.noUpload(blob)
        case .pastEnd(let size):
            throw APIError(
                .contentTooLarge, code: .mediaTooLarge,
                message: "media file \(blob): the bytes sent run past its size of \(size) bytes")
        }
    }

    /// Completes an upload that holds the whole file, once its hash is the blob id (rule 4).
    ///
    /// - Throws: `422 hash_mismatch` after discarding the upload.
    package func finish(_ blob: String, size: Int64, by caller: Caller, now: UInt64) async throws {
        var hash = SHA256()
        var position: Int64 = 0
        let key = MediaKey.upload(token: caller.tokenID, blob: blob)
        while position < size {
            let end = min(size, position + Int64(ProtocolLimits.mediaPieceBytes))
            let bytes = try await storage.bytes(of: key, from: position, to: end)
            guard bytes.count == Int(end - position) else { break }
            hash.update(data: bytes)
            position = end
        }
        let digest = Self.hex(hash.finalize())
        guard position == size, digest == blob else {
            try await storage.discardUpload(blob: blob, token: caller.tokenID)
            throw APIError(
                .unprocessableContent, code: .hashMismatch,
                message: "media file \(blob): the \(size) bytes received do not hash to the id; the upload was discarded: send the file again")
        }
        try await storage.completeUpload(blob: blob, token: caller.tokenID, now: now)
    }

    /// Where the caller's upload of `blob` stands, nil when none is open or complete.
    package func upload(_ blob: String, by caller: Caller) async throws -> MediaUpload? {
        guard MediaReference.isBlobID(blob) else { return nil }
        // Opening with a decision that refuses anything new reads without writing.
        do {
            let state = try await storage.openUpload(blob: blob, token: caller.tokenID, now: 0) { rows in
                guard let existing = rows.existing else { throw NoUpload() }
                return existing
            }
            return MediaUpload(id: blob, size: state.size, offset: state.received, complete: state.complete)
        } catch is NoUpload {
            return nil
        }
    }

    /// The size of `blob` if the caller may read it (rule 5), nil otherwise.
    package func readableSize(of blob: String, by caller: Caller) async throws -> Int64? {
        guard MediaReference.isBlobID(blob), let rows = try await storage.blobRows(blob) else { return nil }
        let visible = rows.records.contains { !$0.record.isDeleted && Visibility.canSee($0, caller: caller) }
        return visible ? rows.size : nil
    }

    /// The bytes of `blob` from `start` up to `end` (exclusive); the caller checked readability.
    package func bytes(of blob: String, from start: Int64, to end: Int64) async throws -> [UInt8] {
        try await storage.bytes(of: .blob(blob), from: start, to: end)
    }

    /// The blob id of `bytes`: their SHA-256 in lowercase hex.
    package static func blobID(of bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func mismatch(_ blob: String, offset: Int64, held: Int64) -> APIError {
        var error = APIError(
            .conflict, code: .offsetMismatch,
            message: "media file \(blob): Upload-Offset \(offset), but the server holds \(held) bytes: send from \(held)")
        error.headers[MediaHeaders.uploadOffset] = String(held)
        return error
    }

    static func noUpload(_ blob: String) -> APIError {
        APIError(
            .notFound, code: .mediaNotFound,
            message: "media file \(blob): no upload open for this account: open one with POST /v1/media/uploads")
    }

    private struct NoUpload: Error {}
}

/// How much media a server stores (rule 2 of ``MediaLibrary``).
package struct MediaLimits: Sendable, Hashable {
    /// The largest file, in bytes.
    package var fileBytes: Int64 = ProtocolLimits.mediaFileBytes
    /// The most bytes one token may have uploaded and be uploading.
    package var quotaBytes: Int64 = ProtocolLimits.mediaQuotaBytes

    package init(fileBytes: Int64 = ProtocolLimits.mediaFileBytes, quotaBytes: Int64 = ProtocolLimits.mediaQuotaBytes) {
        self.fileBytes = fileBytes
        self.quotaBytes = quotaBytes
    }
}
