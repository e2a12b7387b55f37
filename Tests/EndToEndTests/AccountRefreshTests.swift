import FaultProxy
import Foundation
import GRDB
import HavenClient
import HavenCore
import Testing
import TestSupport

/// `haven sync` asks `GET /v1/me` again only when the sync's answers carry another account
/// fingerprint than the one the replica holds: a request, and on a slow link a round trip,
/// fewer at the end of almost every sync, and half the bytes of a poll that finds nothing.
@Suite(.serialized)
struct AccountRefreshTests {
    @Test func aSyncAsksForTheAccountOnlyWhenItsFingerprintChanged() throws {
        // Given a synced replica, through a proxy that counts the account requests the device
        // sends (a rewrite to the same bytes, counted)
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try SamplePack.importPack(SamplePack.make(stories: 2, resources: 1, seed: 4), into: server)
        try server.start()
        defer { server.stop() }
        let asked = "GET /v1/me "
        let proxy = try FaultProxy(upstreamPort: server.port, profile: .init(rewrites: [.init(asked, asked)]))
        defer { proxy.stop() }
        let field = Device("field", in: directory)
        try field.haven("init", "--no-encryption", "--server", proxy.url, "--token", server.token(role: "field", name: "field"))
        try field.haven("sync")
        let held = try #require(try Replica.open(at: field.replica).settings().accountFingerprint)

        // When it syncs again with nothing new
        let before = proxy.counters()
        try field.haven("sync")

        // Then it did not ask for its account: the pull's answer carried the fingerprint it holds
        #expect(proxy.counters().rewrites == before.rewrites)
        #expect(proxy.counters().toServer > before.toServer)

        // When the replica holds a fingerprint the server no longer states (a role or a limit
        // changed), and syncs
        let replica = try Replica.open(at: field.replica)
        let settings = try replica.settings()
        try replica.saveAccount(
            Account(
                name: try #require(settings.accountName), role: try #require(settings.role), limits: ServerLimits(recordBytes: 1_000),
                review: settings.review, fingerprint: "stale"))
        let again = proxy.counters().rewrites
        try field.haven("sync")

        // Then it asked for the account again, and holds the server's answer
        #expect(proxy.counters().rewrites == again + 1)
        let refreshed = try Replica.open(at: field.replica).settings()
        #expect(refreshed.accountFingerprint == held)
        #expect(refreshed.recordBytes != 1_000)

        // When a build from before fingerprints, sharing the file, saves other account values
        // (leaving the fingerprint as it was)
        try DatabaseQueue(path: field.replica).write {
            try $0.execute(sql: "UPDATE meta SET value = '2048' WHERE key = 'record_bytes'")
        }

        // Then the fingerprint no longer counts, and the next sync asks again
        #expect(try Replica.open(at: field.replica).settings().accountFingerprint == nil)
        let third = proxy.counters().rewrites
        try field.haven("sync")
        #expect(proxy.counters().rewrites == third + 1)
        #expect(try Replica.open(at: field.replica).settings().accountFingerprint == held)
    }
}
