import Foundation
import GRDB
import HavenCore
import HavenServer
import HavenTrust
import HummingbirdTesting
import Testing
import TestSupport

/// Signed content (issue 14): the server keeps the published set's digest push by push, and
/// every pull that reaches the head carries the signing key's signature over it.
struct PublishedSetTests {
    /// A reader's copy of what it pulled: records by id, deltas merged, removed ones dropped.
    private struct ReaderCopy {
        var records: [String: RecordState] = [:]
        var cursor: SyncCursor?
        var signature: PublishedSetSignature?

        /// Pulls pages until the head, applying each.
        mutating func sync(_ client: any TestClientProtocol, token: String, limit: Int = 500) async throws {
            while true {
                let page = try await client.pull(token: token, since: cursor, limit: limit)
                for delta in page.changes { records[delta.id, default: RecordState(id: delta.id, kind: delta.kind)].merge(delta) }
                for id in page.removed { records[id] = nil }
                cursor = page.cursor
                // Only the page that reaches the head is signed.
                #expect(page.more ? page.signature == nil : page.signature != nil)
                if !page.more {
                    signature = page.signature
                    return
                }
            }
        }

        /// The digest of the copy, computed from scratch.
        var digest: String { Data(PublishedSetDigest(of: records.values).summary).base64EncodedString() }
    }

    private func addSigningKey(_ server: TestServer) async throws -> PublisherKey {
        let key = PublisherSigningKey()
        try await server.store.addSigningKey { _ in StoredSigningKey(key: key, endorsement: nil, createdAt: TestServer.now) }
        return key.publicKey
    }

    @Test(arguments: StorageBackend.all)
    func theDigestFollowsPublishEditUnpublishAndDeleteAsARecomputationWould(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let key = try await addSigningKey(server)
        var editor = Device("e1")
        var field = Device("f1")
        let (hotline, shelter, story, secret, draft, own) = (
            RecordID.random(), RecordID.random(), RecordID.random(), RecordID.random(), RecordID.random(), RecordID.random()
        )
        let first = [
            editor.change(hotline, .resource, Fields.resource("Hotline")),
            editor.change(shelter, .resource, Fields.resource("Shelter")),
            editor.change(story, .story, Fields.story("Public", status: "published")),
            editor.change(secret, .story, Fields.story("Restricted", status: "published", sensitivity: "restricted")),
            editor.change(draft, .story, Fields.story("Draft")),
        ]
        let mine = field.change(own, .story, Fields.story("Mine"))
        let later = [
            editor.change(hotline, .resource, ["phone": "+82 2 1577 1366"]),
            editor.change(shelter, .resource, ["status": "draft"]),
            editor.change(story, .story, deleted: true),
            editor.change(draft, .story, ["status": "published"]),
        ]
        try await server.test { client in
            // Given a reader that has synced a published set of every kind of record
            #expect(try await client.push(first, token: server["editor"]).statuses == Array(repeating: .applied, count: 5))
            #expect(try await client.push([mine], token: server["field"]).statuses == [.applied])
            var reader = ReaderCopy()
            try await reader.sync(client, token: server["reader"], limit: 2)
            #expect(reader.records.count == 3)

            // When records are edited, unpublished, deleted and published in later pushes
            #expect(try await client.push(later, token: server["editor"]).statuses == Array(repeating: .applied, count: 4))
            try await reader.sync(client, token: server["reader"])

            // Then the signed digest is the digest of what the reader holds, computed from scratch
            let signature = try #require(reader.signature)
            #expect(Set(reader.records.values.filter { !$0.isDeleted }.map(\.id)) == [hotline, draft])
            #expect(signature.digest == reader.digest)
            #expect(signature.seq == reader.cursor?.seq)
            #expect(signature.key == key.id)
            #expect(key.verifies(signature))
            // And every role is sent the same signature: the set is the readers' whatever the role
            for role in ["field", "editor", "admin"] {
                let page = try await client.pull(token: server[role], since: nil, limit: 1000)
                #expect(page.signature == signature, "\(role)")
            }
        }
    }

    /// Batches of this size are summed on every core (`PushBatch.logWrites`).
    @Test(arguments: StorageBackend.all)
    func batchesLargeEnoughToSumOnEveryCoreKeepTheDigestOfARecomputation(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        _ = try await addSigningKey(server)
        var editor = Device("e1")
        let ids = (0..<300).map { _ in RecordID.random() }
        let created = ids.enumerated().map { editor.change($1, .resource, Fields.resource("Shelter \($0)")) }
        // A hundred numbers changed, a hundred unpublished, a hundred deleted, fifty published anew.
        let later =
            ids[0..<100].map { editor.change($0, .resource, ["phone": "+82 2 1577 1366"]) }
            + ids[100..<200].map { editor.change($0, .resource, ["status": "draft"]) }
            + ids[200..<300].map { editor.change($0, .resource, deleted: true) }
            + (0..<50).map { editor.change(RecordID.random(), .resource, Fields.resource("Hotline \($0)")) }
        try await server.test { client in
            #expect(try await client.push(created, token: server["editor"]).statuses.allSatisfy { $0 == .applied })
            var reader = ReaderCopy()
            try await reader.sync(client, token: server["reader"])
            #expect(reader.signature?.digest == reader.digest)

            #expect(try await client.push(later, token: server["editor"]).statuses.allSatisfy { $0 == .applied })
            try await reader.sync(client, token: server["reader"])
            #expect(reader.records.values.filter { Publication.isInPublishedSet($0) }.count == 150)
            #expect(reader.signature?.digest == reader.digest)
        }
    }

    @Test(arguments: StorageBackend.all)
    func compactionAndReopeningKeepTheDigest(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        _ = try await addSigningKey(server)
        var editor = Device("e1")
        let (kept, gone) = (RecordID.random(), RecordID.random())
        let created = [editor.change(kept, .resource, Fields.resource("Kept")), editor.change(gone, .resource, Fields.resource("Gone"))]
        let changed = [editor.change(kept, .resource, ["phone": "+82 2 0000 0001"]), editor.change(gone, .resource, deleted: true)]
        let digest = try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            _ = try await client.push(changed, token: server["editor"])
            return try #require(try await client.pull(token: server["reader"]).signature?.digest)
        }
        let summary = try await server.log.compact(retention: 0, now: TestServer.now + 1)
        #expect(summary.purgedRecords == 1)
        try await server.test { client in
            let after = try await client.pull(token: server["reader"])
            #expect(after.signature?.digest == digest)
        }
    }

    @Test(arguments: StorageBackend.all)
    func withoutASigningKeyNothingIsSigned(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var editor = Device("e1")
        let change = editor.change(RecordID.random(), .resource, Fields.resource("A"))
        try await server.test { client in
            _ = try await client.push([change], token: server["editor"])
            #expect(try await client.pull(token: server["reader"]).signature == nil)
            let keys = try await client.get("/v1/publisher", token: server["reader"]).decode(PublisherKeys.self)
            #expect(keys.keys.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all)
    func aRotatedKeyIsEndorsedByTheOldOneAndSignsFromThenOn(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let first = try await addSigningKey(server)
        let next = PublisherSigningKey()
        try await server.store.addSigningKey { existing in
            StoredSigningKey(key: next, endorsement: try existing.last!.key.endorse(next.publicKey), createdAt: TestServer.now)
        }
        try await server.test { client in
            let response = try await client.get("/v1/publisher", token: server["reader"])
            #expect(response.status == .ok)
            let chain = try response.decode(PublisherKeys.self).keys
            #expect(chain.map(\.id) == [first.id, next.publicKey.id])
            #expect(PublisherKey.follow(from: first, along: chain) == next.publicKey)
            let signature = try #require(try await client.pull(token: server["reader"]).signature)
            #expect(signature.key == next.publicKey.id)
            #expect(next.publicKey.verifies(signature))
            #expect(try await client.get("/v1/publisher", token: nil).status == .unauthorized)
        }
    }

    @Test(arguments: StorageBackend.all)
    func anExistingDatabaseGetsItsDigestComputedOnce(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        _ = try await addSigningKey(server)
        var editor = Device("e1")
        let changes = [
            editor.change(RecordID.random(), .resource, Fields.resource("A")),
            editor.change(RecordID.random(), .story, Fields.story("B", status: "published")),
        ]
        let digest = try await server.test { client in
            _ = try await client.push(changes, token: server["editor"])
            return try #require(try await client.pull(token: server["reader"]).signature?.digest)
        }
        // Given a database as it was before digests: none stored (and on SQLite, the migration not run)
        if let postgres = server.postgres {
            try PostgresTestDatabase.psql(postgres.url, "DELETE FROM meta WHERE key = 'published_digest'")
        } else {
            try await DatabaseQueue(path: server.path).write { db in
                try db.execute(sql: "DELETE FROM meta WHERE key = 'published_digest'")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v6'")
                try db.execute(sql: "ALTER TABLE signing_keys RENAME TO kept_keys")
            }
        }
        // When a server opens it, Then the digest is computed from the records
        if server.postgres == nil {
            _ = try SQLiteSyncStore(path: server.path)
            try await DatabaseQueue(path: server.path).write { db in
                try db.execute(sql: "DROP TABLE signing_keys; ALTER TABLE kept_keys RENAME TO signing_keys")
            }
        }
        let page = try await server.test { client in try await client.pull(token: server["reader"]) }
        #expect(page.signature?.digest == digest)
    }
}
