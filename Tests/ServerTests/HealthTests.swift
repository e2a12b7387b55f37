import Foundation
import HavenServer
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// `GET /healthz`: public, and honest about the database.
struct HealthTests {
    @Test(arguments: StorageBackend.all) func answersOkWithoutATokenWhileTheDatabaseAnswers(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        let response = try await server.test { client in try await client.get("/healthz", token: nil) }
        #expect(response.status == .ok)
        #expect(response.text == #"{"status":"ok"}"#)
        #expect(response.headers[.init("X-Haven-Server-Time")!] == String(TestServer.now))
    }

    @Test(arguments: StorageBackend.all) func answers503WhenTheDatabaseDoesNotAnswer(_ backend: StorageBackend) async throws {
        // Given a server whose database has been closed under it
        // (SQLite: closed; PostgreSQL: its pool never started, so it never connects)
        let server = try await TestServer.make(backend: backend)
        let store = try await server.openStore()
        if let sqlite = store as? SQLiteSyncStore { try sqlite.close() }
        let app = Application(router: buildRouter(store: store, configuration: server.configuration, clock: { TestServer.now }))

        // When a health check comes
        let response = try await app.test(.router) { client in try await client.get("/healthz", token: nil) }

        // Then it is 503 with the JSON error shape
        #expect(response.status == .serviceUnavailable)
        let error = try response.error()
        #expect(error.code == .unavailable)
        #expect(error.message == "the database does not answer")
    }

    @Test(arguments: StorageBackend.all, ["/healthz", "/metrics"])
    func refusesOtherMethods(_ backend: StorageBackend, path: String) async throws {
        let server = try await TestServer.make(backend: backend)
        let response = try await server.test { client in
            try await client.execute(uri: path, method: .post, headers: [.authorization: "Bearer \(server["admin"])"])
        }
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET")
        #expect(try response.error().code == .methodNotAllowed)
    }
}
