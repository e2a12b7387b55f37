import ArgumentParser
import Foundation
import HavenCore
import HavenTrust

/// `haven-server signing-key create|rotate`: the publisher key that signs the published set.
struct SigningKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-key",
        abstract: "Create or rotate the key that signs published content (Ed25519, kept in the database).",
        subcommands: [Create.self, Rotate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the signing key and print its fingerprint, which clients pin (haven init --publisher-key).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await SigningKeyCommand.add(to: database) { existing, key in
                if let current = existing.last {
                    throw CommandFailure(
                        "a signing key exists already (\(current.key.publicKey.id)): use 'haven-server signing-key rotate' to replace it")
                }
                return nil
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the signing key with a new one that the old key endorses; print the new fingerprint.",
            discussion: "Clients that pinned the old key follow the endorsement and pin the new key on their next sync.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await SigningKeyCommand.add(to: database) { existing, key in
                guard let current = existing.last else {
                    throw CommandFailure("no signing key to rotate: create one with 'haven-server signing-key create'")
                }
                return try current.key.endorse(key.publicKey)
            }
        }
    }

    /// Makes a key, stores it with the endorsement `endorse` returns (given the keys so far),
    /// and prints its fingerprint.
    private static func add(
        to database: DatabaseOptions,
        endorse: @escaping @Sendable ([StoredSigningKey], PublisherSigningKey) throws -> [UInt8]?
    ) async throws {
        let key = PublisherSigningKey()
        let now = HybridLogicalClock.systemWallClock()
        try await database.withStore { store in
            try await store.addSigningKey { existing in
                StoredSigningKey(key: key, endorsement: try endorse(existing, key), createdAt: now)
            }
        }
        print(key.publicKey.id)
    }
}
