import Foundation
import HTTPTypes
import HavenCore
import Hummingbird
import HummingbirdTesting
import NIOSSL
import Testing
import TestSupport

@testable import HavenServer

/// The console as an adversary meets it: cookies script cannot read, forms another site cannot
/// post, pages a field token cannot open, sessions that end with their token, stored script
/// shown as text.
struct ConsoleSecurityTests {
    /// A whole resource, as its form posts it.
    static let hotline = ["kind": "resource", "name": "Hotline", "category": "hotline", "country": "KR"]

    @Test func signingInSetsAnHttpOnlyStrictExpiringCookie() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var browser = ConsoleBrowser(client)
            // When an editor signs in with their token
            let answer = try await browser.signIn(server["editor"])

            // Then the answer sends them to the records with a session cookie script cannot read
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/console/records")
            let cookie = try #require(answer.headers[.setCookie])
            for flag in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
                #expect(cookie.contains(flag), "\(cookie)")
            }
            #expect(!cookie.contains("Secure"), "plain HTTP on loopback")
            // And the cookie opens the records page
            #expect(try await browser.get("/console/records").status == .ok)
        }
    }

    @Test func theCookieIsSecureUnderTLS() async throws {
        let server = try await TestServer.make()
        var configuration = server.configuration
        configuration.tls = TLSConfiguration.makeClientConfiguration()
        let console = ConsoleController(
            store: server.store, log: server.log,
            writer: SyncController(log: server.log, configuration: configuration, clock: { TestServer.now }, metrics: ServerMetrics(), tokens: server.store),
            configuration: configuration, clock: { TestServer.now },
            auth: AuthMiddleware(tokens: server.store, configuration: configuration, clock: { TestServer.now }),
            activity: ServerActivity())
        #expect(console.sessionCookie("x", maxAge: 60).hasSuffix("; Secure"))
    }

    @Test func everyPageHasAStrictContentSecurityPolicy() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])
            for uri in ["/console/signin", "/console/records", "/console/records/new?kind=resource", "/console/tokens"] {
                let page = try await browser.get(uri)
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(uri)")
                #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(uri)")
                #expect(!policy.contains("unsafe-inline"))
                #expect(page.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
            }
        }
    }

    @Test func aPostWithoutItsSessionsFormKeyIsRefused() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let browser = try await ConsoleBrowser.atNewResource(client, token: server["editor"])
            let fields = Self.hotline

            // When a form comes without the key, or with another session's
            let missing = try await browser.post("/console/records/new", fields, formKey: false)
            var other = ConsoleBrowser(client)
            try await other.signIn(server["editor2"])
            _ = try await other.get("/console/records")
            let foreign = try await browser.post("/console/records/new", fields.merging(["form_key": other.formKey]) { $1 })

            // Then both are refused in words, and nothing was written
            for answer in [missing, foreign] {
                #expect(answer.status == .forbidden)
                #expect(answer.text.contains("This form is not from your current session"))
            }
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)
        }
    }

    @Test func aFormPostedFromAnotherSiteIsRefused() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let browser = try await ConsoleBrowser.atNewResource(client, token: server["editor"])
            let fields = Self.hotline

            // When the browser says the post comes from another site, with the right key even
            let fromOrigin = try await browser.post(
                "/console/records/new", fields, headers: [.origin: "https://evil.example"])
            let fromSite = try await browser.post(
                "/console/records/new", fields, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            let signIn = try await ConsoleBrowser(client).post(
                "/console/signin", ["token": server["editor"]], headers: [.origin: "null"], formKey: false)

            // Then each is refused, and nothing was written
            for answer in [fromOrigin, fromSite, signIn] {
                #expect(answer.status == .forbidden)
                #expect(answer.text.contains("sent from another site"))
            }
            #expect(try await client.pull(token: server["editor"]).changes.isEmpty)

            // And the same post from the console's own page is taken
            let own = try await browser.post(
                "/console/records/new", fields,
                headers: [.origin: "http://localhost", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(own.status == .seeOther)
            #expect(try await client.pull(token: server["editor"]).changes.count == 1)
        }
    }

    @Test func aFieldTokenCannotOpenEditorPagesAndSeesWhatItReceives() async throws {
        let server = try await TestServer.make()
        var device = Device("d1")
        let draft = RecordID.random()
        let published = RecordID.random()
        let created = [
            device.change(draft, .story, Fields.story("Draft only")),
            device.change(published, .story, Fields.story("Out already", status: "published")),
        ]
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["field"])

            // When field staff open editor pages
            for uri in ["/console/records/new?kind=story", "/console/records/\(published)/edit", "/console/tokens",
                        "/console/as?role=reader", "/console/health", "/console/records/\(published)/history"] {
                let page = try await browser.get(uri)
                // Then each is 403 in words
                #expect(page.status == .forbidden, "\(uri)")
                #expect(page.text.contains("a field token cannot open it"), "\(uri)")
            }
            // And their list holds what a pull gives them: the published story, not the draft
            let list = try await browser.get("/console/records").text
            #expect(list.contains("Out already"))
            #expect(!list.contains("Draft only"))
            #expect(try await browser.get("/console/records/\(draft)").status == .notFound)
        }
    }

    @Test func revokingTheTokenEndsItsSession() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor2"])
            #expect(try await browser.get("/console/records").status == .ok)

            // When an admin revokes the token in the console
            var admin = ConsoleBrowser(client)
            try await admin.signIn(server["admin"])
            _ = try await admin.get("/console/tokens")
            let revoked = try await admin.post("/console/tokens/\(server.ids["editor2"]!)/revoke", [:])
            #expect(revoked.status == .seeOther)

            // Then the session's next request is sent to sign in, and stays so
            let after = try await browser.get("/console/records")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/console/signin")
            #expect(try await browser.signIn(server["editor2"]).status == .unauthorized)
        }
    }

    @Test(arguments: StorageBackend.all) func aSessionIsKnownToAnotherInstanceAndOutlivesARestartUntilSignOut(
        _ backend: StorageBackend
    ) async throws {
        let server = try await TestServer.make(backend: backend)
        // Given a session opened on one instance
        let cookie = try await server.test { client in
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])
            return try #require(browser.cookie)
        }
        #expect(!cookie.isEmpty)

        // When the next request reaches another instance of the same database
        try await server.test { client in
            var elsewhere = ConsoleBrowser(client)
            elsewhere.cookie = cookie
            // Then it is signed in there, and the form key read there signs it out everywhere
            let records = try await elsewhere.get("/console/records")
            #expect(records.status == .ok)
            #expect(try await elsewhere.post("/console/signout", [:]).status == .seeOther)
            #expect(try await elsewhere.get("/console/records").headers[.location] == "/console/signin")
        }
        try await server.test { client in
            var again = ConsoleBrowser(client)
            again.cookie = cookie
            let records = try await again.get("/console/records")
            #expect(records.headers[.location] == "/console/signin")
        }
    }

    @Test func aSessionEndsWhenItExpires() async throws {
        let server = try await TestServer.make()
        let cookie = try await server.test { client in
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])
            return try #require(browser.cookie)
        }
        let sessions = ConsoleSessions(store: server.store)
        let id = String(cookie.dropFirst("haven_session=".count))
        #expect(try await sessions.session(id, now: TestServer.now + ConsoleSessions.lifetime - 1) != nil)
        #expect(try await sessions.session(id, now: TestServer.now + ConsoleSessions.lifetime) == nil)
        // A session opened later sweeps the expired one out of the database
        _ = try await sessions.open(tokenHash: Data(), now: TestServer.now + ConsoleSessions.lifetime)
        #expect(try await sessions.session(id, now: 0) == nil)
    }

    @Test func aClockAtTheEndOfItsRangeOpensASessionThatExpiresThere() async throws {
        let server = try await TestServer.make()
        let sessions = ConsoleSessions(store: server.store)
        let id = try await sessions.open(tokenHash: Data(), now: .max)
        #expect(try await sessions.session(id, now: UInt64(Int64.max) - 1) != nil)
        #expect(expiry(after: 5, from: 10) == 15)
    }

    @Test func aStoredScriptIsShownAsText() async throws {
        let server = try await TestServer.make()
        var device = Device("d1")
        let id = RecordID.random()
        let script = "<script>alert('x')</script>"
        var fields = Fields.story("Title \(script)")
        fields["body"] = .string("Body \(script)")
        let created = [device.change(id, .story, fields)]
        try await server.test { client in
            _ = try await client.push(created, token: server["editor"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])

            for uri in ["/console/records", "/console/records/\(id)", "/console/records/\(id)/edit",
                        "/console/records/\(id)/history"] {
                let page = try await browser.get(uri).text
                #expect(!page.contains("<script"), "\(uri)")
                #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "\(uri)")
            }
        }
    }

    @Test func failedSignInsAreThrottledWithTheAPIsFailures() async throws {
        var configuration = ServerConfiguration.singleSignOff
        configuration.failedAuthLimit = 3
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            // When an address fails twice at the API and once at sign-in
            for _ in 1...2 { #expect(try await client.get("/v1/changes", token: "hvn_guess").status == .unauthorized) }
            var browser = ConsoleBrowser(client)
            #expect(try await browser.signIn("hvn_guess").status == .unauthorized)

            // Then the next failing sign-in is refused in words until the block passes
            let blocked = try await browser.signIn("hvn_guess2")
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.text.contains("Too many failed sign-ins from this address: wait 60 s"))
            #expect(browser.cookie == nil)
            // And a valid token still signs in, as it still authenticates at the API
            #expect(try await browser.signIn(server["editor"]).status == .seeOther)
        }
    }

    @Test func theConsoleIsOffWithNoConsole() async throws {
        var configuration = ServerConfiguration.singleSignOff
        configuration.console = false
        let server = try await TestServer.make(configuration: configuration)
        try await server.test { client in
            for uri in ["/console/signin", "/console/records", "/console/style.css"] {
                let status = try await client.get(uri, token: nil).status
                #expect(status == .notFound, "\(uri)")
            }
        }
    }
}
