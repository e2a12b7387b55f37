import Foundation
import Testing
import TestSupport

/// The link of issue 13: `haven-server serve` over HTTPS with its own certificate, `haven`
/// pinning the server's key, and plain HTTP refused to anything but loopback.
@Suite(.serialized) struct TLSLinkTests {
    @Test func pinnedSyncSucceedsAnotherKeyIsRefusedUntilPinUpdate() throws {
        // Given a server serving HTTPS with a self-signed certificate, and a replica made against it
        let directory = try TemporaryDirectory()
        let first = try Certificate.make("first", in: directory)
        let second = try Certificate.make("second", in: directory)
        let server = ServerProcess(in: directory)
        try server.start(arguments: first.serveArguments)
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let device = Device("field", in: directory)
        let tokenFile = try writeToken(try server.token(role: "editor", name: "field"), in: directory)
        let created = try device.haven("init", "--server", server.url, "--token-file", tokenFile)
        #expect(created.contains("server key \(first.pin)"), "\(created)")

        // When it syncs a story over the pinned link, then Then it gets through
        try device.haven("stories", "add", "--title", "Over TLS", "--body", "pinned", "--language", "en")
        try device.haven("sync", "--retry-for", "0")
        #expect(try device.haven("status").contains("Nothing is waiting to be sent."))

        // When the server comes back on the same address with another key
        let port = String(server.url.split(separator: ":").last!)
        server.stop()
        try server.start(arguments: ["--port", port] + second.serveArguments)
        try device.haven("stories", "add", "--title", "Not for an impostor", "--body", "held", "--language", "en")
        let refused = try device.havenResult(["sync", "--retry-for", "0"])

        // Then the sync is refused, naming both keys and what to do, and the change stays unsent
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("the server's key changed"), "\(refused.stderr)")
        #expect(refused.stderr.contains(first.pin) && refused.stderr.contains(second.pin), "\(refused.stderr)")
        #expect(refused.stderr.contains("haven pin update"), "\(refused.stderr)")
        #expect(try device.haven("status").contains("1 change is waiting to be sent"))

        // When the new key is pinned, Then the next sync gets through
        let updated = try device.haven("pin", "update", "--yes")
        #expect(updated.contains("pinned \(second.pin)"), "\(updated)")
        try device.haven("sync", "--retry-for", "0")
        #expect(try device.haven("status").contains("Nothing is waiting to be sent."))
        #expect(try device.haven("pin", "show") == second.pin)
    }

    @Test func initChecksTheGivenPin() throws {
        // Given an HTTPS server, its key, and another one
        let directory = try TemporaryDirectory()
        let served = try Certificate.make("served", in: directory)
        let other = try Certificate.make("other", in: directory)
        let server = ServerProcess(in: directory)
        try server.start(arguments: served.serveArguments)
        let tokenFile = try writeToken(try server.token(role: "editor", name: "field"), in: directory)

        // When init is given the wrong pin, Then it refuses and creates nothing
        let wrong = Device("wrong", in: directory)
        let refused = try wrong.havenResult(["init", "--server", server.url, "--token-file", tokenFile, "--pin", other.pin])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("not the --pin"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: wrong.replica))

        // When it is given the right one, Then the replica is made and syncs
        let right = Device("right", in: directory)
        let created = try right.haven("init", "--server", server.url, "--token-file", tokenFile, "--pin", served.pin)
        #expect(created.contains("matches --pin"), "\(created)")
        try right.haven("sync", "--retry-for", "0")
    }

    @Test func plainHTTPToAnotherMachineIsRefusedUnlessAllowed() throws {
        // Given an address that is not this machine's (TEST-NET-1: nothing answers there)
        let directory = try TemporaryDirectory()
        let tokenFile = try writeToken("hvn_plain-0123456789", in: directory)
        let device = Device("plain", in: directory)

        // When init is pointed at it over http://, Then it refuses at once, saying why and what to do
        let refused = try device.havenResult(["init", "--server", "http://192.0.2.1:9", "--token-file", tokenFile])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("links are watched"), "\(refused.stderr)")
        #expect(refused.stderr.contains("https://") && refused.stderr.contains("--insecure-http"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: device.replica))

        // When --insecure-http is given, Then the replica is made
        try device.haven("init", "--server", "http://192.0.2.1:9", "--token-file", tokenFile, "--insecure-http", "--offline")
        #expect(FileManager.default.fileExists(atPath: device.replica))
    }

    @Test(arguments: [
        ("missing", "cannot read --tls-certificate"),
        ("garbage", "is not a PEM certificate"),
        ("mismatched", "does not belong to --tls-certificate"),
    ])
    func badCertificateFilesAreNamed(fault: String, message: String) throws {
        // Given a certificate that is missing, not PEM, or not the key's
        let directory = try TemporaryDirectory()
        let good = try Certificate.make("good", in: directory)
        let other = try Certificate.make("other", in: directory)
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: directory.path("garbage.pem")))
        let certificate =
            switch fault {
            case "missing": directory.path("missing.pem")
            case "garbage": directory.path("garbage.pem")
            default: other.certificate
            }

        // When the server is started with it
        let result = try run(
            Binaries.url("haven-server"),
            ["serve", "--database", directory.path("server.sqlite"), "--create", "--port", "0",
             "--tls-certificate", certificate, "--tls-key", good.key], in: directory)

        // Then it does not start, and says which file is wrong
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    private func writeToken(_ token: String, in directory: TemporaryDirectory) throws -> String {
        let file = directory.path("token-\(UUID().uuidString).txt")
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// A self-signed certificate for 127.0.0.1 made with `openssl`, and its key's pin as openssl
/// computes it (not as Haven does, so the two are checked against each other).
private struct Certificate {
    let certificate: String
    let key: String
    let pin: String

    var serveArguments: [String] { ["--tls-certificate", certificate, "--tls-key", key] }

    static func make(_ name: String, in directory: TemporaryDirectory) throws -> Certificate {
        let certificate = directory.path("\(name).crt")
        let key = directory.path("\(name).key")
        try shell(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=\(name) "
                + "-addext subjectAltName=IP:127.0.0.1 -keyout '\(key)' -out '\(certificate)' 2>/dev/null", in: directory)
        let digest = try shell(
            "openssl x509 -in '\(certificate)' -pubkey -noout | openssl pkey -pubin -outform der "
                + "| openssl dgst -sha256 -binary | base64", in: directory)
        return Certificate(certificate: certificate, key: key, pin: "sha256/" + digest)
    }

    @discardableResult
    private static func shell(_ command: String, in directory: TemporaryDirectory) throws -> String {
        let result = try run(URL(fileURLWithPath: "/bin/sh"), ["-c", command], in: directory)
        guard result.status == 0 else { throw ClientFailure("\(command) failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
