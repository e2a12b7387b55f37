import HavenCore
import Hummingbird

/// The editors' console at `/console` (issue 16): server-drawn pages that work without
/// JavaScript, for people who sign in with their token.
///
/// The console adds no rule of its own: a page shows what ``Visibility`` lets its token see,
/// editor pages need a role that ``Role/seesEverything``, and every change made in it is written
/// by ``SyncController/write(_:by:)``, the push's own path, with the signed-in token as author.
struct ConsoleController {
    let store: any SyncStore
    let log: ChangeLog
    /// The push's write path.
    let writer: SyncController
    let configuration: ServerConfiguration
    let clock: HybridLogicalClock.WallClock
    /// The API's authentication, whose throttle counts failed sign-ins with failed requests.
    let auth: AuthMiddleware
    /// Long-polls and compactions, for the health page.
    let activity: ServerActivity
    /// The signed-in sessions, kept in ``store``.
    var sessions: ConsoleSessions { ConsoleSessions(store: store) }

    /// The session cookie.
    static let sessionCookie = "haven_session"

    func addRoutes(to router: Router<HavenRequestContext>) {
        let console = router.group("console").add(middleware: ConsoleGuard())
        console.get(use: Self.home)
        console.get("style.css", use: ConsoleStyle.serve)
        console.get("signin", use: signInPage)
        console.post("signin", use: signIn)
        console.post("signout", use: signOut)
        addRecordRoutes(to: console)
        addEditRoutes(to: console)
        addReviewRoutes(to: console)
        addImportRoutes(to: console)
        addTokenRoutes(to: console)
        addOperatorRoutes(to: console)
    }

    /// Who is signed in: the session of the request's cookie, and its token looked up now.
    ///
    /// - Throws: ``ConsoleProblem/signInNeeded`` without a session, or when its token has been
    ///   revoked or has expired since (the session ends with it).
    func signedIn(_ request: Request) async throws -> SignedIn {
        let now = clock()
        guard let id = request.cookies[Self.sessionCookie]?.value, let session = try await sessions.session(id, now: now)
        else { throw ConsoleProblem.signInNeeded }
        guard let caller = try await store.caller(forTokenHash: session.tokenHash, now: now) else {
            try await sessions.end(id)
            throw ConsoleProblem.signInNeeded
        }
        return SignedIn(caller: caller, sessionID: id, formKey: session.formKey)
    }

    /// Who is signed in, refused unless their role sees every record (editors and admins).
    func editor(_ request: Request) async throws -> SignedIn {
        let signedIn = try await signedIn(request)
        guard signedIn.caller.role.seesEverything else { throw ConsoleProblem.editorsOnly(signedIn.caller.role) }
        return signedIn
    }

    /// A post of a signed-in session: its form, refused unless it carries the session's form key.
    func posted(_ request: Request, by signedIn: SignedIn) async throws -> ConsoleForm {
        let form = try await ConsoleForm.read(request, limit: configuration.maxBodyBytes)
        guard let key = form[ConsoleForm.formKeyField], Self.isEqual(key, signedIn.formKey) else {
            throw ConsoleProblem.staleForm
        }
        return form
    }

    /// Compares two secrets in a time that does not depend on where they differ.
    static func isEqual(_ lhs: String, _ rhs: String) -> Bool {
        let (a, b) = (Array(lhs.utf8), Array(rhs.utf8))
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// `GET /console`: the records.
    static func home(_ request: Request, context: HavenRequestContext) -> Response { redirect("/console/records") }

    /// A redirect after a post, so that reloading does not post again.
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
