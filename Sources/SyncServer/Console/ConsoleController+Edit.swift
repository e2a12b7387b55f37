import HavenCore
import Hummingbird

extension ConsoleController {
    func addEditRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("records/new", use: newRecord)
        console.post("records/new", use: create)
        console.get("records/:id/edit", use: editRecord)
        console.post("records/:id/edit", use: update)
        console.post("records/:id/delete", use: { try await setDeleted(true, $0, $1) })
        console.post("records/:id/restore", use: { try await setDeleted(false, $0, $1) })
    }

    /// `GET /console/records/new?kind=story|resource`.
    func newRecord(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let kind = request.uri.queryParameters["kind"].flatMap { RecordKind(rawValue: String($0)) } ?? .story
        return formPage(RecordForm(kind: kind, record: nil), record: nil, page: ConsolePage(request, signedIn: signedIn))
    }

    /// `POST /console/records/new`: a new record, written as a push writes it.
    func create(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let kind = RecordKind(rawValue: posted.text("kind")) ?? .story
        return try await save(
            RecordForm(kind: kind, posted: posted), to: nil, id: RecordID.random(), base: nil,
            page: ConsolePage(request, signedIn: signedIn))
    }

    /// `GET /console/records/{id}/edit`.
    func editRecord(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let record = try await visibleRecord(request, context: context, for: signedIn.caller).record
        return formPage(
            RecordForm(kind: record.kind, record: record), record: record, page: ConsolePage(request, signedIn: signedIn))
    }

    /// `POST /console/records/{id}/edit`: the fields that differ, written as a push writes them,
    /// with the version the form was read at as the change's base.
    func update(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let record = try await visibleRecord(request, context: context, for: signedIn.caller).record
        return try await save(
            RecordForm(kind: record.kind, posted: posted), to: record, id: record.id, base: SyncCursor(posted.text("base")),
            page: ConsolePage(request, signedIn: signedIn))
    }

    /// `POST /console/records/{id}/delete` and `…/restore`.
    func setDeleted(_ deleted: Bool, _ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let record = try await visibleRecord(request, context: context, for: signedIn.caller).record
        let change = RecordForm.deletion(
            deleted, of: record, by: signedIn.caller, now: clock(), base: SyncCursor(posted.text("base")))
        if let refusal = try await writer.write([change], by: signedIn.caller).first?.error {
            throw ConsoleProblem(status: .conflict, words: Words(verbatim: refusal.message))
        }
        return Self.redirect("/console/records/\(record.id)")
    }

    /// Validates the form, then writes its change; the form again, with what was typed and each
    /// problem beside its field, when the schema or the change log refuses it.
    private func save(_ form: RecordForm, to record: TrackedRecord?, id: String, base: SyncCursor?, page: ConsolePage)
        async throws -> Response
    {
        var form = form
        guard form.validate() else { return formPage(form, record: record, page: page, status: .unprocessableContent) }
        guard let change = form.change(to: record, id: id, by: page.signedIn!.caller, now: clock(), base: base, review: configuration.review
        ) else {
            return Self.redirect("/console/records/\(id)")
        }
        let result = try await writer.write([change], by: page.signedIn!.caller).first
        if let refusal = result?.error {
            return formPage(form, record: record, page: page, refusal: refusal, status: .conflict)
        }
        return Self.redirect("/console/records/\(id)")
    }

    private func formPage(
        _ form: RecordForm, record: TrackedRecord?, page: ConsolePage, refusal: ErrorDetail? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let action = record.map { "/console/records/\($0.id)/edit" } ?? "/console/records/new"
        let base = record.map { SyncCursor(epoch: store.epoch, seq: $0.lastSeq).description } ?? ""
        var notices: [HTML] = []
        if !form.problems.isEmpty {
            notices.append(
                "<p class=\"problem\" role=\"alert\">\(page.text(Words("Not saved: correct the fields marked below.", korean: "저장하지 않았습니다: 아래 표시된 필드를 고치세요.")))</p>")
        }
        if let refusal {
            notices.append(
                "<p class=\"problem\" role=\"alert\">\(page.text(Words("Not saved:", korean: "저장하지 않았습니다:"))) \(refusal.message)</p>")
        }
        let title =
            record.map { Words(verbatim: RecordListing.title(of: $0)) }
            ?? (form.kind == .story ? Words("New story", korean: "새 이야기") : Words("New resource", korean: "새 지원 정보"))
        return page.response(
            title, status: status,
            """
            \(notices)
            <form method="post" action="\(action)" novalidate>\(page.formKey)
            <input type="hidden" name="kind" value="\(form.kind.rawValue)"><input type="hidden" name="base" value="\(base)">
            \(form.inputs(on: page))
            <button type="submit">\(page.text(Words("Save", korean: "저장")))</button>
            </form>
            """)
    }
}
