import Foundation

/// Measurement 8: what encryption at rest costs (issue 13), as ratios to plaintext in one run.
struct EncryptionResult {
    /// `haven sync` of a fresh plaintext replica, right before the encrypted one (both find the
    /// server warm, unlike measurement 2's fresh server process).
    var plainSyncSeconds = 0.0
    /// The same first sync into a replica encrypted under a passphrase (scrypt at N=2^17).
    var encryptedSyncSeconds = 0.0
    /// `haven status` of the synced plaintext replica: a whole process, median of three.
    var plainOpenSeconds = 0.0
    /// The same of the encrypted replica: the key derived from the passphrase included.
    var encryptedOpenSeconds = 0.0
    /// `haven encrypt` of the synced plaintext replica, in place.
    var encryptInPlaceSeconds = 0.0
}

extension Measurements {
    /// Syncs `records` records into a plaintext and an encrypted replica from `server`, opens
    /// each, then encrypts the plaintext one in place.
    func encryption(server: RunningServer, token: String, records: Int, in directory: String) throws -> EncryptionResult {
        func path(_ name: String) -> String { harness.path("\(directory)/\(name)") }
        let passphraseFile = path("passphrase")
        // 0600, as a real passphrase file must be; the words are what a person might type.
        guard
            FileManager.default.createFile(
                atPath: passphraseFile, contents: Data("a long passphrase typed on a phone\n".utf8),
                attributes: [.posixPermissions: 0o600])
        else { throw BenchError("cannot write \(passphraseFile)") }
        let passphrase = ["--passphrase-file", passphraseFile]
        var result = EncryptionResult()

        /// `creation` goes to `haven init` only; `opening` to every command that opens the replica.
        func firstSync(_ replica: String, creation: [String], opening: [String]) throws -> Double {
            _ = try harness.haven(["init", "--replica", replica, "--server", server.url, "--token", token] + creation)
            let (synced, run) = try harness.haven(["sync", "--replica", replica, "--json"] + opening)
            guard synced["pulledRecords"] as? Int == records else {
                throw BenchError("sync of \(replica) pulled \(synced["pulledRecords"] ?? "?") of \(records)")
            }
            return run.seconds
        }
        func medianOpen(_ replica: String, _ extra: [String]) throws -> Double {
            let runs = try (0..<3).map { _ in try harness.haven(["status", "--replica", replica] + extra).result.seconds }
            return runs.sorted()[1]
        }

        let plain = path("plain.sqlite")
        let encrypted = path("encrypted.sqlite")
        result.plainSyncSeconds = try firstSync(plain, creation: ["--no-encryption"], opening: [])
        result.encryptedSyncSeconds = try firstSync(encrypted, creation: passphrase, opening: passphrase)
        result.plainOpenSeconds = try medianOpen(plain, [])
        result.encryptedOpenSeconds = try medianOpen(encrypted, passphrase)
        result.encryptInPlaceSeconds = try harness.haven(["encrypt", "--replica", plain] + passphrase).result.seconds
        return result
    }
}
