import Foundation
import HavenCore
import Hummingbird

extension ConsoleController {
    func addRecordRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("records", use: records)
        console.get("records/:id", use: record)
        console.get("records/:id/history", use: history)
    }

    /// `GET /console/records`: the records the signed-in token may see, searched and filtered.
    func records(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await signedIn(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let listing = RecordListing(request.uri.queryParameters)
        let found = listing.apply(to: try await RecordListing.visible(to: signedIn.caller, in: store))
        let exportLink: HTML =
            signedIn.caller.role.seesEverything
            ? "<p><a href=\"/console/export\(request.uri.query.map { "?" + $0 } ?? "")\" download>\(page.text(Words("Export these records as a pack", korean: "이 기록들을 팩으로 내보내기")))</a></p>"
            : ""
        return page.response(
            Words("Records", korean: "기록"),
            """
            \(filterForm(listing, page: page))
            \(recordTable(found, page: page))\(exportLink)
            """)
    }

    /// `GET /console/records/{id}`: every field of one record, with what an editor may do to it.
    func record(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await signedIn(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let stored = try await visibleRecord(request, context: context, for: signedIn.caller)
        let record = stored.record
        // The schema's words for what is wrong with the record as stored (written by an older
        // version, say), beside each field: what an edit must fix before it is saved.
        var form = RecordForm(kind: record.kind, record: record)
        let valid = record.isDeleted || form.validate()
        let names = RecordForm.displayOrder(of: record) + form.problems.keys.filter { record.fields[$0] == nil }.sorted()
        let fields = names.map { name -> HTML in
            let value = record.fields[name].map { RecordForm.display($0.register.value) } ?? ""
            let problem: HTML = form.problems[name].map { "<p class=\"error\">\(page.text($0))</p>" } ?? ""
            return "<tr><th scope=\"row\">\(name)</th><td class=\"value\">\(value)\(problem)</td></tr>"
        }
        let invalid: HTML =
            valid
            ? ""
            : "<p class=\"problem\">\(page.text(Words("This record breaks the schema (see the fields marked): an edit must fix it before it is saved.", korean: "이 기록은 스키마에 맞지 않습니다 (표시된 필드를 보세요): 편집해서 고쳐야 저장됩니다.")))</p>"

        var actions: [HTML] = []
        if signedIn.caller.role.seesEverything {
            let base = SyncCursor(epoch: store.epoch, seq: record.lastSeq).description
            let danger: HTML = record.isDeleted ? "" : " class=\"danger\""
            let (action, label): (String, Words) =
                record.isDeleted
                ? ("restore", Words("Restore", korean: "되살리기")) : ("delete", Words("Delete", korean: "삭제"))
            actions.append("<a href=\"/console/records/\(record.id)/edit\">\(page.text(Words("Edit", korean: "편집")))</a>")
            actions.append("<a href=\"/console/records/\(record.id)/history\">\(page.text(Words("History", korean: "이력")))</a>")
            let status = Visibility.status(of: record)
            if !record.isDeleted, status == "draft" {
                actions.append(
                    """
                    <form method="post" action="/console/records/\(record.id)/submit" class="inline">\(page.formKey)\
                    <input type="hidden" name="base" value="\(base)">\
                    <button type="submit">\(page.text(Words("Submit for review", korean: "검토 요청")))</button></form>
                    """)
            } else if !record.isDeleted, status == "review" {
                actions.append("<a href=\"/console/review/\(record.id)\">\(page.text(Words("Review", korean: "검토")))</a>")
            }
            actions.append(
                """
                <form method="post" action="/console/records/\(record.id)/\(action)" class="inline">\(page.formKey)\
                <input type="hidden" name="base" value="\(base)">\
                <button type="submit"\(danger)>\(page.text(label))</button></form>
                """)
        }
        let deleted: HTML =
            record.isDeleted ? "<p class=\"problem\">\(page.text(Words("This record is deleted.", korean: "삭제된 기록입니다.")))</p>" : ""
        return page.response(
            Words(verbatim: RecordListing.title(of: record)),
            """
            <p><span class="badge">\(record.kind.rawValue)</span> <span class="badge">\(Visibility.status(of: record))</span> \
            <code>\(record.id)</code></p>\(deleted)\(invalid)
            <p>\(actions)</p>
            <table><tbody>\(fields)</tbody></table>
            """)
    }

    /// `GET /console/records/{id}/history`: every change of a record still in the log, newest first.
    func history(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let page = ConsolePage(request, signedIn: signedIn)
        let id = context.parameters.get("id") ?? ""
        guard RecordID.isValid(id) else { throw ConsoleProblem.noRecord(id) }
        let history: RecordHistory
        do {
            history = try await log.history(of: id, for: signedIn.caller)
        } catch HistoryRefusal.noSuchRecord {
            throw ConsoleProblem.noRecord(id)
        }
        let rows = history.entries.map { entry -> HTML in
            let changes = entry.fields.map { field -> HTML in
                let old = field.old.map(RecordForm.display) ?? page.text(Words("(compacted)", korean: "(정리됨)"))
                return "<li><strong>\(field.name)</strong>: <del class=\"value\">\(old)</del> → <ins class=\"value\">\(RecordForm.display(field.new))</ins></li>"
            }
            return """
                <tr><td>\(entry.seq)</td><td>\(ConsolePage.time(entry.receivedAt))</td><td>\(entry.author)</td>\
                <td><ul>\(changes)</ul></td></tr>
                """
        }
        let heading: HTML = """
            <tr><th scope="col">seq</th><th scope="col">\(page.text(Words("Received", korean: "받은 때")))</th>\
            <th scope="col">\(page.text(Words("Author", korean: "작성자")))</th>\
            <th scope="col">\(page.text(Words("Changes (old → new)", korean: "변경 (이전 → 새 값)")))</th></tr>
            """
        return page.response(
            Words("History", korean: "이력"),
            """
            <p><a href="/console/records/\(id)">\(page.text(Words("Back to the record", korean: "기록으로 돌아가기")))</a></p>
            <table><thead>\(heading)</thead><tbody>\(rows)</tbody></table>
            """)
    }

    /// The record of the request's `id`, if the caller may see it (``Visibility``), deleted ones
    /// only for editors and admins.
    func visibleRecord(_ request: Request, context: HavenRequestContext, for caller: Caller) async throws -> StoredRecord {
        let id = context.parameters.get("id") ?? ""
        guard RecordID.isValid(id), let stored = try await store.historyRows(of: id).record,
            Visibility.canSee(stored, caller: caller), caller.role.seesEverything || !stored.record.isDeleted
        else { throw ConsoleProblem.noRecord(id) }
        return stored
    }

    /// The table of a list of records, each linked to its page.
    func recordTable(_ records: [TrackedRecord], page: ConsolePage) -> HTML {
        let rows = records.map { record -> HTML in
            let values = record.state.values
            let languages = values["language"].map(RecordForm.display) ?? values["languages"].map(RecordForm.display) ?? ""
            let status = record.isDeleted ? "deleted" : Visibility.status(of: record)
            return """
                <tr><td><a href="/console/records/\(record.id)">\(RecordListing.title(of: record))</a></td>\
                <td>\(record.kind.rawValue)</td><td><span class="badge">\(status)</span></td><td>\(languages)</td>\
                <td>\(values["region"].map(RecordForm.display) ?? "")</td></tr>
                """
        }
        let count = page.text(Words("\(records.count) found", korean: "\(records.count)개 찾음"))
        return """
            <p role="status">\(count)</p>
            <table><thead><tr><th scope="col">\(page.text(Words("Title or name", korean: "제목 또는 이름")))</th>\
            <th scope="col">\(page.text(Words("Kind", korean: "종류")))</th>\
            <th scope="col">\(page.text(Words("Status", korean: "상태")))</th>\
            <th scope="col">\(page.text(Words("Language", korean: "언어")))</th>\
            <th scope="col">\(page.text(Words("Region", korean: "지역")))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
    }

    private func filterForm(_ listing: RecordListing, page: ConsolePage) -> HTML {
        func select(_ name: String, _ label: Words, _ options: [String], _ chosen: String?) -> HTML {
            let items = ([""] + options).map { option -> HTML in
                let selected: HTML = option == (chosen ?? "") ? " selected" : ""
                let text = option.isEmpty ? page.text(Words("any", korean: "모두")) : option
                return "<option value=\"\(option)\"\(selected)>\(text)</option>"
            }
            return "<div><label for=\"\(name)\">\(page.text(label))</label><select id=\"\(name)\" name=\"\(name)\">\(items)</select></div>"
        }
        func input(_ name: String, _ label: Words, _ value: String?) -> HTML {
            "<div><label for=\"\(name)\">\(page.text(label))</label><input type=\"text\" id=\"\(name)\" name=\"\(name)\" value=\"\(value ?? "")\"></div>"
        }
        return """
            <form method="get" action="/console/records" role="search">
            <label for="q">\(page.text(Words("Search", korean: "검색")))</label>
            <input type="search" id="q" name="q" value="\(listing.query)">
            <div class="filters">
            \(select("kind", Words("Kind", korean: "종류"), RecordKind.allCases.map(\.rawValue), listing.kind?.rawValue))
            \(select("status", Words("Status", korean: "상태"), RecordListing.statuses, listing.status))
            \(input("language", Words("Language", korean: "언어"), listing.language))
            \(input("region", Words("Region", korean: "지역"), listing.region))
            \(select("category", Words("Category", korean: "분류"), RecordSchema.categories, listing.category))
            </div>
            <button type="submit">\(page.text(Words("Search", korean: "검색")))</button>
            </form>
            """
    }
}
