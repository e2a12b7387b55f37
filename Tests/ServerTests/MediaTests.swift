import Foundation
import GRDB
import HTTPTypes
import HavenCore
import HavenServer
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// Media (issue 17) through the router, on both backends: resumable uploads, the hash checked
/// before a blob is visible, pushes that name missing files refused, downloads with `Range` only
/// for those who may see a record naming the file, limits, and collection by compaction.
struct MediaTests {
    private static let day: UInt64 = 86_400_000

    /// A file of `size` pseudo-random bytes, the same for the same seed.
    static func file(_ size: Int, seed: UInt64 = 17) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    static func reference(_ bytes: [UInt8], name: String = "leaflet.jpg") -> MediaReference {
        MediaReference(id: MediaLibrary.blobID(of: bytes), type: "image/jpeg", size: Int64(bytes.count), name: name)
    }

    @Test(arguments: StorageBackend.all) func uploadResumesFromTheServersOffsetAndCompletesOnTheHash(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend)
        let bytes = Self.file(300_000)
        let id = MediaLibrary.blobID(of: bytes)
        try await server.test { client in
            // Given an upload opened by field staff
            let opened = try await client.openUpload(id, size: bytes.count, token: server["field"])
            #expect(opened.status == .created)
            #expect(try opened.decode(MediaUpload.self) == MediaUpload(id: id, size: 300_000, offset: 0, complete: false))

            // When the first 100,000 bytes arrive, then a piece is sent again from 0
            let first = try await client.append(bytes[0..<100_000], to: id, at: 0, token: server["field"])
            #expect(first.status == .ok)
            let again = try await client.append(bytes[0..<50_000], to: id, at: 0, token: server["field"])

            // Then the repeat is refused with the server's offset, and nothing is written twice
            #expect(again.status == .conflict)
            #expect(again.headers[HTTPField.Name("Upload-Offset")!] == "100000")
            #expect(try again.error().code == .offsetMismatch)
            let head = try await client.execute(
                uri: "/v1/media/uploads/\(id)", method: .head, headers: [.authorization: "Bearer \(server["field"])"])
            #expect(head.headers[HTTPField.Name("Upload-Offset")!] == "100000")
            #expect(head.headers[HTTPField.Name("Upload-Length")!] == "300000")
            // And opening it again answers where it stands
            #expect(try await client.openUpload(id, size: bytes.count, token: server["field"]).decode(MediaUpload.self).offset == 100_000)

            // When the rest arrives, the blob is complete, and every byte reads back
            let rest = try await client.append(bytes[100_000...], to: id, at: 100_000, token: server["field"])
            #expect(try rest.decode(MediaUpload.self) == MediaUpload(id: id, size: 300_000, offset: 300_000, complete: true))
            #expect(try await server.store.bytes(of: .blob(id), from: 0, to: 300_000) == bytes)
        }
    }

    @Test(arguments: StorageBackend.all) func bytesThatDoNotHashToTheIDAreDiscarded(_ backend: StorageBackend)
        async throws
    {
        let server = try await TestServer.make(backend: backend)
        let bytes = Self.file(10_000)
        let id = MediaLibrary.blobID(of: bytes)
        var tampered = bytes
        tampered[5_000] ^= 0xff
        let forged = tampered
        try await server.test { client in
            // Given an upload under the hash of one file, sent another file's bytes
            _ = try await client.openUpload(id, size: bytes.count, token: server["editor"])
            let answer = try await client.append(forged[...], to: id, at: 0, token: server["editor"])

            // Then it is refused in words, and neither the blob nor the upload remains
            #expect(answer.status == .unprocessableContent)
            #expect(try answer.error().code == .hashMismatch)
            #expect(try await server.store.blobRows(id) == nil)
            let reopened = try await client.openUpload(id, size: bytes.count, token: server["editor"])
            #expect(try reopened.decode(MediaUpload.self).offset == 0)
        }
    }

    @Test(arguments: StorageBackend.all) func pushNamingAFileNotUploadedByItsAuthorIsRefused(_ backend: StorageBackend)
        async throws
    {
        let server = try await TestServer.make(backend: backend)
        let bytes = Self.file(5_000)
        let reference = Self.reference(bytes)
        var device = Device("f1")
        var other = Device("f2")
        let story = RecordID.random()
        var fields = Fields.story("Leaflet")
        fields["media"] = MediaReference.field([reference])
        let (first, second, third) = (
            device.change(story, .story, fields), device.change(story, .story, fields), device.change(story, .story, fields)
        )
        let own = other.change(RecordID.random(), .story, fields)
        try await server.test { client in
            // Given a story naming a file nobody uploaded
            let early = try await client.push([first], token: server["field"])
            // Then it is refused, saying what to do
            #expect(early.results.first?.error?.code == .mediaMissing)
            #expect(early.results.first?.error?.message.contains("upload it first") == true)

            // When field2 uploads the file, field still may not claim it by its hash
            try await client.uploadWhole(bytes, token: server["field2"])
            let claimed = try await client.push([second], token: server["field"])
            #expect(claimed.results.first?.error?.code == .mediaMissing)

            // And once field uploads it too, the story is applied
            try await client.uploadWhole(bytes, token: server["field"])
            let applied = try await client.push([third], token: server["field"])
            #expect(applied.statuses == [.applied])
            // And field2 names it in its own story, having uploaded it: one blob, stored once
            let ownPush = try await client.push([own], token: server["field2"])
            #expect(ownPush.statuses == [.applied])
            #expect(try Self.count("SELECT count(*) AS n FROM media_chunks", server) > 0)
            #expect(try Self.count("SELECT count(*) AS n FROM media_blobs", server) == 1)
            #expect(try Self.count("SELECT count(*) AS n FROM media_chunks WHERE key LIKE 'upload/%'", server) == 0)
        }
    }

    @Test(arguments: StorageBackend.all) func aRestrictedStorysFileReachesOnlyThoseWhoMaySeeTheStory(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend)
        let bytes = Self.file(70_000)
        let reference = Self.reference(bytes)
        var device = Device("f1")
        var fields = Fields.story("Where we hid", sensitivity: "restricted")
        fields["media"] = MediaReference.field([reference])
        let change = device.change(RecordID.random(), .story, fields)
        try await server.test { client in
            // Given field staff's restricted draft naming a photo it uploaded
            try await client.uploadWhole(bytes, token: server["field"])
            let pushed = try await client.push([change], token: server["field"])
            try #require(pushed.statuses == [.applied])

            // Then its author and editors download it whole
            for name in ["field", "editor", "admin"] {
                let answer = try await client.get("/v1/media/\(reference.id)", token: server[name])
                #expect(answer.status == .ok, "\(name)")
                #expect(Array(answer.body.readableBytesView) == bytes, "\(name)")
            }
            // And another field token and a reader get the answer for a file that does not exist
            let missing = try await client.get("/v1/media/\(String(repeating: "0", count: 64))", token: server["field2"])
            for name in ["field2", "reader"] {
                let answer = try await client.get("/v1/media/\(reference.id)", token: server[name])
                #expect(answer.status == .notFound, "\(name)")
                #expect(try answer.error().code == missing.error().code)
                #expect(answer.body.readableBytes == missing.body.readableBytes)
            }
        }
    }

    @Test(arguments: StorageBackend.all) func aRangeIsAnsweredWithItsBytes(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let bytes = Self.file(200_000)
        let reference = Self.reference(bytes)
        var device = Device("e1")
        var fields = Fields.story("Map", status: "published")
        fields["media"] = MediaReference.field([reference])
        let change = device.change(RecordID.random(), .story, fields)
        try await server.test { client in
            try await client.uploadWhole(bytes, token: server["editor"])
            try #require(try await client.push([change], token: server["editor"]).statuses == [.applied])
            for (header, range) in [("bytes=65530-131099", 65_530..<131_100), ("bytes=150000-", 150_000..<200_000), ("bytes=-10", 199_990..<200_000)] {
                let answer = try await client.execute(
                    uri: "/v1/media/\(reference.id)", method: .get,
                    headers: [.authorization: "Bearer \(server["reader"])", .range: header, .acceptEncoding: "gzip"])
                #expect(answer.status == .partialContent, "\(header)")
                #expect(answer.headers[.contentRange] == "bytes \(range.lowerBound)-\(range.upperBound - 1)/200000")
                #expect(Array(answer.body.readableBytesView) == Array(bytes[range]), "\(header)")
            }
            let past = try await client.execute(
                uri: "/v1/media/\(reference.id)", method: .get,
                headers: [.authorization: "Bearer \(server["reader"])", .range: "bytes=200000-"])
            #expect(past.status == .rangeNotSatisfiable)
            #expect(past.headers[.contentRange] == "bytes */200000")
        }
    }

    @Test(arguments: StorageBackend.all) func filesAboveTheLimitsAreRefusedBeforeAByteIsSent(_ backend: StorageBackend)
        async throws
    {
        var configuration = ServerConfiguration.singleSignOff
        configuration.mediaFileBytes = 100_000
        configuration.mediaQuotaBytes = 150_000
        let server = try await TestServer.make(backend: backend, configuration: configuration)
        try await server.test { client in
            // A file above the size limit
            let large = try await client.openUpload(String(repeating: "a", count: 64), size: 100_001, token: server["field"])
            #expect(large.status == .contentTooLarge)
            #expect(try large.error().message.contains("at most 100000"))
            // A file that would take the token past its quota, counting what it uploaded
            try await client.uploadWhole(Self.file(90_000), token: server["field"])
            let over = try await client.openUpload(String(repeating: "b", count: 64), size: 70_000, token: server["field"])
            #expect(over.status == .contentTooLarge)
            #expect(try over.error().message.contains("quota"))
            // Another token has its own quota; a reader uploads nothing
            #expect(try await client.openUpload(String(repeating: "b", count: 64), size: 70_000, token: server["field2"]).status == .created)
            #expect(try await client.openUpload(String(repeating: "b", count: 64), size: 70_000, token: server["reader"]).status == .forbidden)
        }
    }

    @Test(arguments: StorageBackend.all) func compactionCollectsUnreferencedFilesAndThoseOfPurgedRecords(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend)
        let (kept, purged, orphan) = (Self.file(80_000, seed: 1), Self.file(80_000, seed: 2), Self.file(1_000, seed: 3))
        let editor = Caller(tokenID: server.ids["editor"]!, name: "editor", role: .editor)
        var device = Device("e1")
        let (live, doomed) = (RecordID.random(), RecordID.random())
        try await server.test { client in
            for file in [kept, purged, orphan] { try await client.uploadWhole(file, token: server["editor"]) }
        }
        // Given a story naming one file, a story naming another and then deleted, and a file no record names
        var liveFields = Fields.story("Kept")
        liveFields["media"] = MediaReference.field([Self.reference(kept)])
        var doomedFields = Fields.story("Doomed")
        doomedFields["media"] = MediaReference.field([Self.reference(purged)])
        let results = try await server.log.push(
            [device.change(live, .story, liveFields), device.change(doomed, .story, doomedFields),
             device.change(doomed, deleted: true)], by: editor, now: TestServer.now)
        try #require(results.allSatisfy { $0.status == .applied }, "\(results)")

        // When compaction runs inside the window, nothing goes
        #expect(try await server.log.compact(retention: 30 * Self.day, now: TestServer.now + Self.day).blobs == 0)

        // When it runs past the window
        let summary = try await server.log.compact(retention: 30 * Self.day, now: TestServer.now + 31 * Self.day)

        // Then the purged story's file and the file nobody named are gone, bytes and all, on this backend
        #expect(summary.purgedRecords == 1)
        #expect(summary.blobs == 2)
        for gone in [purged, orphan] {
            let id = MediaLibrary.blobID(of: gone)
            #expect(try await server.store.blobRows(id) == nil)
            #expect(try Self.count("SELECT count(*) AS n FROM media_chunks WHERE key = '\(id)'", server) == 0)
        }
        // And the live story's file stays
        #expect(try await server.store.bytes(of: .blob(MediaLibrary.blobID(of: kept)), from: 0, to: 80_000) == kept)
    }

    /// The one number `sql` selects as `n`, read from the test server's database.
    static func count(_ sql: String, _ server: TestServer) throws -> Int {
        struct Count: Decodable { var n: Int }
        if let postgres = server.postgres { return try postgres.rows(Count.self, sql).first?.n ?? 0 }
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: server.path, configuration: configuration).read { db in
            try Int.fetchOne(db, sql: sql) ?? 0
        }
    }
}

extension TestClientProtocol {
    /// `POST /v1/media/uploads` for a file of `size` bytes under `id`.
    func openUpload(_ id: String, size: Int, token: String) async throws -> TestResponse {
        try await post(
            "/v1/media/uploads", token: token, body: try JSONEncoder().encode(MediaUploadRequest(id: id, size: Int64(size))))
    }

    /// `PATCH /v1/media/uploads/{id}` with `bytes` at `offset`.
    func append(_ bytes: ArraySlice<UInt8>, to id: String, at offset: Int, token: String) async throws -> TestResponse {
        try await execute(
            uri: "/v1/media/uploads/\(id)", method: .patch,
            headers: [
                .authorization: "Bearer \(token)", .contentType: "application/offset+octet-stream",
                HTTPField.Name("Upload-Offset")!: String(offset),
            ],
            body: ByteBuffer(bytes: bytes))
    }

    /// Opens and sends a whole file in one piece; fails unless it completes.
    func uploadWhole(_ bytes: [UInt8], token: String) async throws {
        let id = MediaLibrary.blobID(of: bytes)
        let opened = try await openUpload(id, size: bytes.count, token: token)
        try #require(opened.status == .created, "open answered \(opened.status): \(opened.text)")
        let sent = try await append(bytes[...], to: id, at: 0, token: token)
        try #require(try sent.decode(MediaUpload.self).complete, "append answered \(sent.status): \(sent.text)")
    }
}
