import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, from a URL in libpq's form:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&host=/socket/dir]`.
///
/// `sslmode` keeps libpq's meanings: `disable`; `prefer` (the default: TLS when the server
/// offers it, without checking its certificate); `require` (TLS, certificate not checked);
/// `verify-full` (TLS, certificate and host name checked against the system's trust store).
/// A `host` query item names a Unix socket directory, as in libpq.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// The role to connect as.
    public var username: String
    var password: String?
    /// The server's host name or address; unused with a ``socketDirectory``.
    public var host: String
    /// The server's port (5432 unless the URL says otherwise).
    public var port: Int
    /// The database's name.
    public var database: String
    /// The directory of the server's Unix socket (the URL's `host` query item); nil for TCP.
    public var socketDirectory: String?
    /// Whether and how TLS is used (the URL's `sslmode`).
    public var sslMode: SSLMode

    /// libpq's `sslmode` values that Haven takes, with libpq's meanings.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, its certificate not checked.
        case prefer
        /// TLS, its certificate not checked.
        case require
        /// TLS, the certificate and host name checked against the system's trust store.
        case verifyFull = "verify-full"
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads `url`; the error names what is wrong, never the password.
    public init(url: String) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw LocationError("not a postgres:// URL")
        }
        guard let username = components.user, !username.isEmpty else {
            throw LocationError("the URL names no user: postgres://USER@HOST/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw LocationError("the URL names no database: postgres://USER@HOST/DATABASE")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        if let unknown = query.keys.sorted().first(where: { !["sslmode", "host"].contains($0) }) {
            throw LocationError("unknown URL parameter '\(unknown)': only sslmode and host are understood")
        }
        let sslMode = query["sslmode"] ?? "prefer"
        guard let mode = SSLMode(rawValue: sslMode) else {
            throw LocationError(
                "sslmode '\(sslMode)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.username = username
        self.password = components.password
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        self.port = components.port ?? 5432
        self.database = database
        self.socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        self.sslMode = mode
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        let place = socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)"
        return "postgres://\(username)@\(place)/\(database)"
    }

    /// The configuration of postgres-nio's connection pool.
    func clientConfiguration() -> PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        }
        let tls = tlsConfiguration()
        let mode: PostgresClient.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(tls)
            case .require, .verifyFull: .require(tls)
            }
        return PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
    }

    /// The configuration of a single connection, outside the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username, password: password,
                database: database)
        }
        let mode: PostgresConnection.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
            case .require, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration()))
            }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
    }

    private func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if sslMode != .verifyFull { tls.certificateVerification = .none }
        return tls
    }

    struct LocationError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
