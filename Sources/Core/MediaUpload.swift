/// `POST /v1/media/uploads` body: the file a client is about to send, named by its hash.
public struct MediaUploadRequest: Sendable, Hashable, Codable {
    /// The SHA-256 of the file, 64 lowercase hex digits: the blob id.
    public var id: String
    /// The file's length in bytes.
    public var size: Int64

    /// A request to open, or ask the offset of, the upload of the file `id` of `size` bytes.
    public init(id: String, size: Int64) {
        self.id = id
        self.size = size
    }
}

/// Where an upload stands, as the server answers `POST /v1/media/uploads` and
/// `PATCH /v1/media/uploads/{id}`: the bytes it holds of the file, and whether the file is
/// complete and verified.
public struct MediaUpload: Sendable, Hashable, Codable {
    /// The blob id.
    public var id: String
    /// The file's length in bytes.
    public var size: Int64
    /// How many of its bytes the server holds: the next `PATCH` sends from here.
    public var offset: Int64
    /// Whether the server holds the whole file and its hash matched the id.
    public var complete: Bool

    /// The state of an upload: `offset` bytes of `size` held, `complete` once verified.
    public init(id: String, size: Int64, offset: Int64, complete: Bool) {
        self.id = id
        self.size = size
        self.offset = offset
        self.complete = complete
    }
}
