import HavenCore
import Hummingbird

/// Review before publish in the console (``ReviewRule``): the queue of records in review, each
/// one's changes beside its published version, and approve, decline and submit, each written as
/// the status move a `haven review` command pushes, so the server judges it by the same rules
/// (another editor approves; a refusal is shown in its words).
extension ConsoleController {
    func addReviewRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("review", use: reviewQueue)
        console.get("review/:id", use: reviewPage)
        console.post("review/:id/approve", use: { try await move($0, $1, to: "published", from: "review") })
        console.post("review/:id/decline", use: { try await move($0, $1, to: "draft", from: "review") })
        console.post("records/:id/submit", use: { try await move($0, $1, to: "review", from: "draft") })
    }

    /// `GET /console/review`: the records waiting for review.
    func reviewQueue(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let page = ConsolePage(request, signedIn: signedIn)
        var listing = RecordListing()
        listing.status = "review"
        let waiting = listing.apply(to: try await RecordListing.visible(to: signedIn.caller, in: store))
        let rows = waiting.map { record -> HTML in
            let comment = record.state.values[ReviewRule.commentField].map(RecordForm.display) ?? ""
            return """
                <tr><td><a href="/console/review/\(record.id)">\(RecordListing.title(of: record))</a></td>\
                <td>\(record.kind.rawValue)</td><td class="value">\(comment)</td></tr>
                """
        }
        let empty: HTML =
            waiting.isEmpty ? "<p>\(page.text(Words("Nothing waits for review.", korean: "검토를 기다리는 기록이 없습니다.")))</p>" : ""
        return page.response(
            Words("Review", korean: "검토"),
            """
            <p role="status">\(page.text(Words("\(waiting.count) waiting", korean: "\(waiting.count)개 대기 중")))</p>\(empty)
            <table><thead><tr><th scope="col">\(page.text(Words("Title or name", korean: "제목 또는 이름")))</th>\
            <th scope="col">\(page.text(Words("Kind", korean: "종류")))</th>\
            <th scope="col">\(page.text(Words("Comment", korean: "의견")))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """)
    }

    /// `GET /console/review/{id}`: what approving would publish, field by field, the published
    /// value on the left and the new one on the right (``ReviewDiff``), with approve and decline.
    func reviewPage(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let record = try await visibleRecord(request, context: context, for: signedIn.caller).record
        return try await reviewPage(of: record, page: ConsolePage(request, signedIn: signedIn))
    }

    private func reviewPage(
        of record: TrackedRecord, page: ConsolePage, refusal: ErrorDetail? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let diff = ReviewDiff(try await log.history(of: record.id, for: page.signedIn!.caller))
        let rows = diff.fields.map { field -> HTML in
            """
            <tr><th scope="row">\(field.name)</th>\
            <td class="value old">\(field.published.map(RecordForm.display) ?? "")</td>\
            <td class="value new">\(field.now.map(RecordForm.display) ?? "")</td></tr>
            """
        }
        let inReview = !record.isDeleted && Visibility.status(of: record) == "review"
        var notices: [HTML] = []
        if let refusal {
            notices.append(
                "<p class=\"problem\" role=\"alert\">\(page.text(Words("Not saved:", korean: "저장하지 않았습니다:"))) \(refusal.message)</p>")
        }
        if !inReview {
            notices.append(
                "<p class=\"notice\">\(page.text(Words("This record is not in review now (it is \(Visibility.status(of: record))).", korean: "이 기록은 지금 검토 중이 아닙니다 (상태: \(Visibility.status(of: record))).")))</p>")
        }
        if diff.compactedBefore != nil {
            notices.append(
                "<p class=\"notice\">\(page.text(Words("Older changes were compacted: a field shown empty on the left may have had a value.", korean: "오래된 변경은 정리되었습니다: 왼쪽에 비어 있는 필드에 값이 있었을 수 있습니다.")))</p>")
        }
        let comment = record.state.values[ReviewRule.commentField].map(RecordForm.display) ?? ""
        let submitted: HTML =
            comment.isEmpty
            ? "" : "<p>\(page.text(Words("Comment:", korean: "의견:"))) <span class=\"value\">\(comment)</span></p>"
        let published: Words =
            diff.publishedSeq == nil
            ? Words("Published (never)", korean: "게시된 값 (게시된 적 없음)") : Words("Published", korean: "게시된 값")
        let base = SyncCursor(epoch: store.epoch, seq: record.lastSeq).description
        let decisions: HTML =
            inReview
            ? """
            <form method="post" action="/console/review/\(record.id)/approve">\(page.formKey)\
            <input type="hidden" name="base" value="\(base)">
            <label for="approve-comment">\(page.text(Words("Comment (optional)", korean: "의견 (선택)")))</label>
            <textarea id="approve-comment" name="comment" class="comment"></textarea>
            <button type="submit" name="decision" value="approve">\(page.text(Words("Approve and publish", korean: "승인하고 게시")))</button>
            </form>
            <form method="post" action="/console/review/\(record.id)/decline">\(page.formKey)\
            <input type="hidden" name="base" value="\(base)">
            <label for="decline-comment">\(page.text(Words("Why it goes back to draft", korean: "초안으로 돌려보내는 이유")))</label>
            <textarea id="decline-comment" name="comment" class="comment"></textarea>
            <button type="submit" class="danger">\(page.text(Words("Decline", korean: "거절")))</button>
            </form>
            """ : ""
        return page.response(
            Words(verbatim: RecordListing.title(of: record)), status: status,
            """
            \(notices)
            <p><span class="badge">\(record.kind.rawValue)</span> <code>\(record.id)</code> \
            <a href="/console/records/\(record.id)/history">\(page.text(Words("History", korean: "이력")))</a></p>\(submitted)
            <table class="diff"><thead><tr><th scope="col">\(page.text(Words("Field", korean: "필드")))</th>\
            <th scope="col">\(page.text(published))</th>\
            <th scope="col">\(page.text(Words("In review", korean: "검토 중인 값")))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            \(decisions)
            """)
    }

    /// A status move of the record of the request's `id` with the posted comment: approve,
    /// decline or submit. The server's review rules judge it as they judge a push.
    private func move(_ request: Request, _ context: HavenRequestContext, to status: String, from expected: String)
        async throws -> Response
    {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let page = ConsolePage(request, signedIn: signedIn)
        let record = try await visibleRecord(request, context: context, for: signedIn.caller).record
        let current = Visibility.status(of: record)
        guard !record.isDeleted, current == expected else {
            let refusal = ErrorDetail(
                code: .invalidTransition,
                message: "record \(record.id) is \(record.isDeleted ? "deleted" : current) now, not \(expected): nothing was changed")
            return try await reviewPage(of: record, page: page, refusal: refusal, status: .conflict)
        }
        let comment = posted.text("comment")
        let change = RecordForm.statusMove(
            of: record, to: status, comment: comment.isEmpty ? nil : comment, by: signedIn.caller, now: clock(),
            base: SyncCursor(posted.text("base")))
        if let refusal = try await writer.write([change], by: signedIn.caller).first?.error {
            return try await reviewPage(of: record, page: page, refusal: refusal, status: .conflict)
        }
        return Self.redirect(status == "review" ? "/console/review/\(record.id)" : "/console/records/\(record.id)")
    }
}
