import ArgumentParser
import Crypto
import Foundation
import NIOSSL

/// `--tls-certificate` and `--tls-key`: serve HTTPS without a reverse proxy in front.
struct TLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-certificate"),
        help: ArgumentHelp("PEM certificate (chain) to serve HTTPS with (HAVEN_TLS_CERTIFICATE).", valueName: "file"))
    var tlsCertificateOption: String?
    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("PEM private key of that certificate (HAVEN_TLS_KEY).", valueName: "file"))
    var tlsKeyOption: String?

    /// The options, or the environment where an option is not given.
    var tlsCertificate: String? { tlsCertificateOption ?? ProcessEnvironment.value("HAVEN_TLS_CERTIFICATE") }
    var tlsKey: String? { tlsKeyOption ?? ProcessEnvironment.value("HAVEN_TLS_KEY") }

    /// What HTTPS is served with: the TLS configuration and the SHA-256 of the certificate's public
    /// key as clients pin it (`sha256/BASE64`).
    struct Loaded {
        var configuration: TLSConfiguration
        var pin: String
    }

    func validate() throws {
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together: give both to serve HTTPS, or neither")
        }
    }

    /// The files read and checked; nil when HTTPS is not asked for.
    ///
    /// - Throws: `ValidationError` naming the file that cannot be read, is not PEM, or does not
    ///   belong with the other.
    func load() throws -> Loaded? {
        guard let tlsCertificate, let tlsKey else { return nil }
        let chain = try Self.read("--tls-certificate", tlsCertificate, as: "a PEM certificate") {
            try NIOSSLCertificate.fromPEMFile($0)
        }
        guard let leaf = chain.first else {
            throw ValidationError("--tls-certificate \(tlsCertificate) holds no certificate: give a PEM certificate file")
        }
        let key = try Self.read("--tls-key", tlsKey, as: "a PEM private key") { try NIOSSLPrivateKey(file: $0, format: .pem) }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ValidationError(
                "--tls-key \(tlsKey) does not belong to --tls-certificate \(tlsCertificate): give the key the "
                    + "certificate was made for")
        }
        let digest = SHA256.hash(data: try leaf.extractPublicKey().toSPKIBytes())
        return Loaded(configuration: configuration, pin: "sha256/" + Data(digest).base64EncodedString())
    }

    private static func read<T>(_ option: String, _ path: String, as kind: String, _ parse: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ValidationError("cannot read \(option) \(path): check its path and permissions")
        }
        do {
            return try parse(path)
        } catch {
            throw ValidationError("\(option) \(path) is not \(kind): give a PEM file (-----BEGIN ...-----)")
        }
    }
}
