import FaultProxy
import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

/// Signed content through the real `haven` and `haven-server` (issue 14): a resource's number
/// altered in the server's database, on the link and in the replica file is each detected,
/// reported and not shown as verified, while the rest stays readable; a key rotation is
/// followed; unsent edits survive a failed check.
@Suite(.serialized)
struct SignedContentTests {
    static let genuine = "+82 2 1577 0000"
    static let newNumber = "+82 2 1577 1366"
    static let forged = "+82 2 9999 1366"

    /// A server with a signing key, an editor who published a hotline and a shelter, and the
    /// key's fingerprint.
    struct World {
        let directory: TemporaryDirectory
        let server: ServerProcess
        let fingerprint: String
        let editor: Device
        let hotline: String
        let shelter: String

        init() throws {
            directory = try TemporaryDirectory()
            server = ServerProcess(in: directory)
            fingerprint = try Self.signingKey("create", server: server)
            try server.start()
            editor = try Self.device("editor", role: "editor", in: directory, server: server)
            hotline = try editor.haven(
                "resources", "add", "--name", "Hotline", "--category", "hotline", "--country", "KR", "--phone", SignedContentTests.genuine,
                "--status", "published")
            shelter = try editor.haven(
                "resources", "add", "--name", "Shelter", "--category", "shelter", "--country", "KR", "--status", "published")
            try editor.haven("sync", "--retry-for", "0")
        }

        /// `haven-server signing-key create|rotate` on the server's database; the fingerprint it prints.
        static func signingKey(_ verb: String, server: ServerProcess) throws -> String {
            let result = try run(
                Binaries.url("haven-server"), ["signing-key", verb, "--database", server.database, "--create"],
                in: server.directory)
            guard result.status == 0 else { throw ClientFailure("signing-key \(verb) failed: \(result.stderr)") }
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// A replica of a new token with `role`, initialised against `url` (the server's by default).
        static func device(
            _ name: String, role: String, in directory: TemporaryDirectory, server: ServerProcess, url: String? = nil,
            extra: [String] = []
        ) throws -> Device {
            let file = directory.path("\(name).token")
            try Data((try server.token(role: role, name: name) + "\n").utf8).write(to: URL(fileURLWithPath: file))
            let device = Device(name, in: directory)
            let result = try device.havenResult(["init", "--server", url ?? server.url, "--token-file", file] + extra)
            guard result.status == 0 else { throw ClientFailure("init failed: \(result.stderr)") }
            return device
        }

        /// The editor changes the hotline's number and syncs.
        func publishNewNumber() throws {
            try editor.haven("resources", "edit", hotline, "--phone", SignedContentTests.newNumber)
            try editor.haven("sync", "--retry-for", "0")
        }
    }

    @Test func initPinsTheKeyAndRefusesAnother() throws {
        let world = try World()
        let reader = try World.device(
            "reader", role: "reader", in: world.directory, server: world.server, extra: ["--publisher-key", world.fingerprint])
        try reader.haven("sync", "--retry-for", "0")
        #expect(try reader.haven("status").contains("Published content is verified: signed by the publisher key \(world.fingerprint)"))
        #expect(try reader.haven("verify").contains("verified"))

        let stranger = Device("stranger", in: world.directory)
        let file = world.directory.path("stranger.token")
        try Data((try world.server.token(role: "reader", name: "stranger") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let refused = try stranger.havenResult(
            ["init", "--server", world.server.url, "--token-file", file, "--publisher-key", "ed25519:00112233445566778899aabbccddeeff"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("not the --publisher-key"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stranger.replica))
    }

    @Test func aNumberAlteredInTheServersDatabaseIsCaught() throws {
        // Given a reader whose replica was verified, and a story that stays as it was
        let world = try World()
        let story = try world.editor.haven(
            "stories", "add", "--title", "Guide", "--body", "Call first.", "--language", "en", "--status", "published")
        try world.editor.haven("sync", "--retry-for", "0")
        let reader = try World.device("reader", role: "reader", in: world.directory, server: world.server)
        try reader.haven("sync", "--retry-for", "0")

        // When someone with the database changes the hotline's number by hand, so that it goes
        // out with the next change the publisher makes
        let head = try DatabaseQueue(path: world.server.database).write { db in
            let head = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'")!
            let text = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [world.hotline])!
            var state = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
            var fields = state["fields"] as! [String: Any]
            var phone = fields["phone"] as! [String: Any]
            var register = phone["register"] as! [String: Any]
            register["value"] = Self.forged
            // A later stamp, so that the forgery wins over the genuine number wherever it merges.
            let stamp = (register["stamp"] as! String).split(separator: "-").map(String.init)
            register["stamp"] = [stamp[0], String(format: "%04x", Int(stamp[1], radix: 16)! + 1), stamp[2]].joined(separator: "-")
            phone["register"] = register
            phone["seq"] = head + 1
            fields["phone"] = phone
            state["fields"] = fields
            state["lastSeq"] = head + 1
            let altered = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
            // The record as a page carries it (its wire form), altered alike: what a download
            // from scratch sends.
            let wireText = try String.fetchOne(db, sql: "SELECT shared_wire FROM records WHERE id = ?", arguments: [world.hotline])!
            var wire = try JSONSerialization.jsonObject(with: Data(wireText.utf8)) as! [String: Any]
            var wireFields = wire["fields"] as! [String: Any]
            wireFields["phone"] = register
            wire["fields"] = wireFields
            let alteredWire = String(decoding: try JSONSerialization.data(withJSONObject: wire), as: UTF8.self)
            try db.execute(
                sql: "UPDATE records SET state = ?, shared_wire = ?, last_seq = ? WHERE id = ?",
                arguments: [altered, alteredWire, head + 1, world.hotline])
            return head
        }
        #expect(head > 0)
        try world.editor.haven("resources", "edit", world.shelter, "--hours", "24/7")
        try world.editor.haven("push", "--retry-for", "0")

        // Then the reader's sync fails in words, and keeps the last verified number
        let sync = try reader.havenResult(["sync", "--retry-for", "0"])
        #expect(sync.status != 0)
        #expect(sync.stdout.contains("did NOT match the publisher's signature"), "\(sync.stdout)")
        let shown = try reader.haven("resources", "show", world.hotline)
        #expect(shown.contains(Self.genuine) && !shown.contains(Self.forged), "\(shown)")
        #expect(shown.contains("UNVERIFIED"), "\(shown)")
        #expect(try reader.haven("resources", "list").contains("(UNVERIFIED)"))
        #expect(try reader.haven("status").contains("did NOT match the publisher's signature"))
        // And the story nobody touched reads as before, without a warning
        let untouched = try reader.haven("stories", "show", story)
        #expect(untouched.contains("Call first.") && !untouched.contains("UNVERIFIED"), "\(untouched)")
    }

    @Test func aNumberAlteredOnTheLinkIsCaughtAndUnsentEditsSurvive() throws {
        // Given field staff syncing through a link that forges the hotline's new number (and
        // asks the server for no gzip or zstd, so that answers cross it readable)
        let world = try World()
        let plain = [
            FaultProxy.Rewrite("Accept-Encoding: gzip", "Accept-Encoding: none"),
            FaultProxy.Rewrite("Accept-Encoding: zstd, gzip", "Accept-Encoding: none, none"),
        ]
        let proxy = try FaultProxy(
            upstreamPort: world.server.port, profile: .init(rewrites: plain + [.init(Self.newNumber, Self.forged)]))
        defer { proxy.stop() }
        let field = try World.device(
            "field", role: "field", in: world.directory, server: world.server, url: proxy.url,
            extra: ["--publisher-key", world.fingerprint])
        try field.haven("sync", "--retry-for", "0")
        let draft = try field.haven("stories", "add", "--title", "My note", "--body", "Unsent.", "--language", "en")

        // When the publisher changes the number and field staff pull through that link
        try world.publishNewNumber()
        let pull = try field.havenResult(["pull", "--retry-for", "0"])

        // Then the forgery is caught, never shown, and said
        #expect(proxy.counters().rewrites > 0)
        #expect(pull.status != 0)
        let shown = try field.haven("resources", "show", world.hotline)
        #expect(!shown.contains(Self.forged) && shown.contains(Self.genuine) && shown.contains("UNVERIFIED"), "\(shown)")
        #expect(try field.haven("status").contains("did NOT match the publisher's signature"))
        // And the unsent story is still there, still to be sent
        #expect(try field.haven("stories", "show", draft).contains("Unsent."))
        #expect(try field.haven("status").contains("1 change is waiting to be sent"))
    }

    @Test func aNumberAlteredInTheReplicaFileIsCaughtByVerify() throws {
        let world = try World()
        let reader = try World.device("reader", role: "reader", in: world.directory, server: world.server, extra: ["--no-encryption"])
        try reader.haven("sync", "--retry-for", "0")

        // When the hotline's number is changed in the replica file
        try DatabaseQueue(path: reader.replica).write { db in
            let state = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [world.hotline])!
            try db.execute(
                sql: "UPDATE records SET state = ? WHERE id = ?",
                arguments: [state.replacingOccurrences(of: Self.genuine, with: "+82 2 9999 0000"), world.hotline])
        }

        // Then verify names it, and read commands mark it
        let verify = try reader.havenResult(["verify"])
        #expect(verify.status != 0)
        #expect(verify.stderr.contains("altered on this device (\(world.hotline))"), "\(verify.stderr)")
        #expect(try reader.haven("resources", "show", world.hotline).contains("UNVERIFIED"))
        #expect(!(try reader.haven("resources", "show", world.shelter).contains("UNVERIFIED")))
        // And the next sync brings the genuine number back, verified
        try reader.haven("sync", "--retry-for", "0")
        #expect(try reader.haven("resources", "show", world.hotline).contains(Self.genuine))
        #expect(try reader.haven("verify").contains("verified"))
    }

    @Test func aServerWithoutAKeySaysSoAndSignsNothing() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        let said = try String(contentsOf: try #require(server.running).stderrURL, encoding: .utf8)
        #expect(said.contains("no signing key: published content is not signed"), "\(said)")
        let file = directory.path("reader.token")
        try Data((try server.token(role: "reader", name: "reader") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let reader = Device("reader", in: directory)
        #expect(try reader.haven("init", "--server", server.url, "--token-file", file).contains("the server signs nothing"))
        try reader.haven("sync", "--retry-for", "0")
        #expect(try reader.haven("status").contains("Published content is not signed by this server"))
    }

    @Test func aKeyRotationIsFollowed() throws {
        let world = try World()
        let said = try String(contentsOf: try #require(world.server.running).stderrURL, encoding: .utf8)
        #expect(said.contains("haven-server: publisher key \(world.fingerprint)"), "\(said)")
        #expect(throws: ClientFailure.self) { try World.signingKey("create", server: world.server) }
        let reader = try World.device("reader", role: "reader", in: world.directory, server: world.server)
        try reader.haven("sync", "--retry-for", "0")

        let next = try World.signingKey("rotate", server: world.server)
        try world.publishNewNumber()
        try reader.haven("sync", "--retry-for", "0")

        #expect(next != world.fingerprint)
        #expect(try reader.haven("status").contains("signed by the publisher key \(next)"))
        #expect(try reader.haven("resources", "show", world.hotline).contains(Self.newNumber))
    }
}
