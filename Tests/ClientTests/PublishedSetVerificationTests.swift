import Foundation
import GRDB
import HavenCore
import HavenServer
import HavenTrust
import HummingbirdTesting
import Testing
import TestSupport

@testable import HavenClient

/// Signed content on the client (Replica+Verification.swift): every sync checks the publisher's
/// signature over its own digest of the published set; a mismatch keeps the last verified state.
@Suite(.temporaryDirectory)
struct PublishedSetVerificationTests {
    private static let (hotline, shelter) = (RecordIDs.first, RecordIDs.second)
    private static let genuinePhone = "+82 2 1577 1366"

    /// A published resource written at `at`.
    private static func resource(_ id: String, _ fields: [String: JSONValue], at physical: UInt64) -> RecordState {
        RecordState(
            id: id, kind: .resource, fields: fields.mapValues { Register($0, stamp: Fixtures.stamp(physical)) })
    }

    private static let created = [
        resource(
            hotline,
            ["name": "Hotline", "category": "hotline", "country": "KR", "phone": "+82 2 1577 0000", "status": "published"],
            at: Fixtures.epoch - 60_000),
        resource(
            shelter, ["name": "Shelter", "category": "shelter", "country": "KR", "status": "published"],
            at: Fixtures.epoch - 60_000),
    ]

    /// The hotline's new number, as the publisher set it.
    private static let newNumber = resource(hotline, ["phone": .string(genuinePhone)], at: Fixtures.epoch - 30_000)

    /// A link that changes the hotline's number in every pull answer on its way.
    private static func tampering(_ router: RouterTransport) -> FaultyLink {
        FaultyLink(over: router) { attempt in
            guard attempt.isPull else { return nil }
            return .rewrite { response in
                let text = String(decoding: response.body, as: UTF8.self)
                response.body = Data(text.replacingOccurrences(of: genuinePhone, with: "+82 2 9999 1366").utf8)
            }
        }
    }

    /// Runs `body` with a server holding the two resources and a signing key, and an editor's
    /// replica that pinned the key and has synced them, verified.
    private func withVerifiedReplica(
        _ body: @Sendable (InProcessServer, any TestClientProtocol, RouterTransport, Replica, PublisherSigningKey) async throws
            -> Void
    ) async throws {
        let server = try await InProcessServer.make()
        let key = try await server.addSigningKey()
        try await server.run { client in
            try await server.seed(Self.created, through: client)
            let router = RouterTransport(client)
            let replica = try makeEmptyReplica(token: server.token(.editor))
            try replica.pinPublisherKey(key.publicKey)
            let summary = try await makeEngine(replica, router).sync()
            try #require(summary.publishedSet == .verified)
            try await body(server, client, router, replica, key)
        }
    }

    @Test func aSyncIsVerifiedAgainstThePinnedKey() async throws {
        try await withVerifiedReplica { server, client, router, replica, key in

            let status = try replica.status()
            let cursor = try replica.settings().cursor
            #expect(status.verifiedSeq != nil && status.verifiedSeq == cursor?.seq)
            #expect(status.publisherKey == key.publicKey.id)
            #expect(status.unverifiedRecords == 0 && !status.verificationFailed)
            #expect(try replica.verifyLocally().verified)
        }
    }

    @Test func aNumberAlteredOnTheLinkIsCaughtAndTheLastVerifiedStateKept() async throws {
        try await withVerifiedReplica { server, client, router, replica, key in
            // Given an unsent edit here, and a new number for the hotline on the server
            try replica.edit(Self.shelter, values: ["hours": "24/7"])
            try await server.seed([Self.newNumber], through: client)

            // When the number is altered on the link, on the pull and on its one download again
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, Self.tampering(router)).pull(into: &summary)

            // Then the check fails, the hotline is back as last verified and marked unverified
            #expect(summary.publishedSet == .failed)
            #expect(try replica.record(Self.hotline).values["phone"] == "+82 2 1577 0000")
            #expect(try replica.unverifiedIDs() == [Self.hotline])
            #expect(try replica.status().verificationFailed)
            // And the rest stays usable, with the unsent edit
            #expect(try replica.record(Self.shelter).values["hours"] == "24/7")
            #expect(try replica.pendingChanges(limit: 10).map(\.record.id) == [Self.shelter])

            // When the link is clean again, Then the next sync verifies the publisher's number
            let clean = try await makeEngine(replica, router).sync()
            #expect(clean.publishedSet == .verified)
            #expect(try replica.record(Self.hotline).values["phone"] == .string(Self.genuinePhone))
            #expect(try replica.unverifiedIDs().isEmpty)
            #expect(try replica.record(Self.shelter).values["hours"] == "24/7")
        }
    }

    @Test func watchingEndsWhenTheCheckFailsInsteadOfDownloadingAgainAndAgain() async throws {
        try await withVerifiedReplica { server, client, router, replica, _ in
            try await server.seed([Self.newNumber], through: client)
            let link = Self.tampering(router)
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, link).watch(into: &summary)
            #expect(summary.publishedSet == .failed)
            // The pull, and its one download again from the last verified position
            #expect(router.pulls.count == 3)
        }
    }

    @Test func aStrippedSignatureFailsOnceAKeyIsPinned() async throws {
        try await withVerifiedReplica { server, client, router, replica, key in
            try await server.seed([Self.newNumber], through: client)
            let stripping = FaultyLink(over: router) { attempt in
                guard attempt.isPull else { return nil }
                return .rewrite { response in
                    var page = try JSONDecoder().decode(PullResponse.self, from: response.body)
                    page.signature = nil
                    response.body = try JSONEncoder().encode(page)
                }
            }
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, stripping).pull(into: &summary)
            #expect(summary.publishedSet == .failed)
            #expect(try replica.unverifiedIDs() == [Self.hotline])
        }
    }

    @Test func aRotationIsFollowedAndAnUnendorsedKeyRefused() async throws {
        try await withVerifiedReplica { server, client, router, replica, first in

            // When the publisher rotates its key, Then the replica follows the endorsement
            let second = try await server.addSigningKey()
            try await server.seed([Self.newNumber], through: client)
            #expect(try await makeEngine(replica, router).sync().publishedSet == .verified)
            #expect(try replica.publisherKey() == second.publicKey)

            // When a key appears that no pinned key endorsed, Then nothing it signs is trusted
            try await server.addSigningKey(endorsed: false)
            try await server.seed([Self.resource(Self.shelter, ["hours": "9-18"], at: Fixtures.epoch - 10_000)], through: client)
            #expect(try await makeEngine(replica, router).sync().publishedSet == .failed)
            #expect(try replica.publisherKey() == second.publicKey)
            #expect(try replica.unverifiedIDs() == [Self.shelter])
        }
    }

    @Test func verifyCatchesARowAlteredInTheFileAndSyncRepairsIt() async throws {
        try await withVerifiedReplica { server, client, router, replica, key in

            // Given the hotline's number and the shelter's name changed in the replica file itself
            try replica.database.write { db in
                for (id, genuine, forged) in [(Self.hotline, "1577 0000", "9999 0000"), (Self.shelter, "Shelter", "Shelteq")] {
                    let state = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id])!
                    try db.execute(
                        sql: "UPDATE records SET state = ? WHERE id = ?",
                        arguments: [state.replacingOccurrences(of: genuine, with: forged), id])
                }
            }

            // Then verify names them, and marks them unverified
            let found = try replica.verifyLocally()
            #expect(!found.verified)
            #expect(Set(found.altered) == [Self.hotline, Self.shelter])
            #expect(try replica.unverifiedIDs() == [Self.hotline, Self.shelter])

            // And the next sync downloads them again whole, one page each, verified
            #expect(try await makeEngine(replica, router, .init(pageLimit: 1, pageBytes: nil)).sync().publishedSet == .verified)
            #expect(try replica.record(Self.hotline).values["phone"] == "+82 2 1577 0000")
            #expect(try replica.record(Self.shelter).values["name"] == "Shelter")
            #expect(try replica.verifyLocally().verified)
        }
    }

    /// A replica holding the published records, made as an older build left it by `sql` (a
    /// migration undone), and opened again.
    private static func reopenedAfterUndoing(_ sql: String) throws -> Replica {
        let replica = try makeEmptyReplica()
        try replica.apply(Fixtures.page(created, cursor: Fixtures.cursor(2)))
        try replica.database.write { db in try db.execute(sql: sql) }
        return try Replica.open(at: replica.path, encryptionKey: Fixtures.encryptionKey)
    }

    @Test func anExistingReplicaGetsItsDigestComputedOnOpening() throws {
        // Given a replica from before signed content: records, and no digest or elements
        // When it is opened, Then its digest is the digest of its published records
        let opened = try Self.reopenedAfterUndoing(
            """
            DROP TABLE published_elements; DROP TABLE verified_rows; DROP TABLE unverified;
            DELETE FROM meta WHERE key = 'published_digest';
            DELETE FROM grdb_migrations WHERE identifier = 'v5';
            """)
        let digest = try opened.database.read { db in try Replica.publishedDigest(db) }
        #expect(digest == PublishedSetDigest(of: Self.created))
        #expect(digest != PublishedSetDigest())
        #expect(try opened.recomputedPublishedDigest().altered.isEmpty)
    }

    @Test func aReplicaFromBeforeRowSeedsGetsTheColumnOnOpening() throws {
        // Given a replica whose records table has no seeds (before v7)
        // When it is opened, Then its rows are still the published set, and new rows keep seeds
        let opened = try Self.reopenedAfterUndoing(
            """
            DROP TRIGGER records_seed_stale; ALTER TABLE records DROP COLUMN seed;
            DELETE FROM grdb_migrations WHERE identifier = 'v7'
            """)
        #expect(try opened.recomputedPublishedDigest().altered.isEmpty)
        try opened.apply(Fixtures.page(Self.created, cursor: Fixtures.cursor(3)))
        func seeds() throws -> Int? {
            try opened.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE seed IS NOT NULL") }
        }
        #expect(try seeds() == Self.created.count)

        // And a row whose state a build from before seeds rewrites loses its seed
        try opened.database.write { db in
            try db.execute(sql: "UPDATE records SET state = state || ' ' WHERE id = ?", arguments: [Self.created[0].id])
        }
        #expect(try seeds() == Self.created.count - 1)
    }

    @Test func aRecordAPageBringsAndRemovesLeavesThePublishedSet() throws {
        // Given a replica holding the published records
        let replica = try makeEmptyReplica()
        try replica.apply(Fixtures.page(Self.created, cursor: Fixtures.cursor(2)))

        // When a page brings the first again and also says it is gone
        try replica.apply(Fixtures.page([Self.created[0]], removed: [Self.created[0].id], cursor: Fixtures.cursor(3)))

        // Then it is gone, from the records and from the running digest alike
        let running = try replica.database.read { db in try Replica.publishedDigest(db) }
        let recomputed = try replica.recomputedPublishedDigest()
        #expect(running == recomputed.digest)
        #expect(recomputed.altered.isEmpty)
        #expect(running == PublishedSetDigest(of: Array(Self.created.dropFirst())))
    }
}
