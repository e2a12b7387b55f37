import Foundation
import HavenCore
import Hummingbird
import NIOCore

/// Content packs in the console: import with a preview of every change before anything is
/// written (the rules of `haven-server import`, ``ImportStep``), and export of the records listed.
///
/// Unlike `haven-server import`, whose operator publishes in one step, a console import is the
/// signed-in editor's push: its changes carry their token as author and the server's review
/// policy judges them, so a pack that would publish unreviewed content is refused whole.
extension ConsoleController {
    func addImportRoutes(to console: RouterGroup<HavenRequestContext>) {
        console.get("import", use: importPage)
        console.post("import", use: previewImport)
        console.post("import/confirm", use: confirmImport)
        console.get("export", use: export)
    }

    /// `GET /console/import`: the form that sends a pack to preview.
    func importPage(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let page = ConsolePage(request, signedIn: signedIn)
        return page.response(Words("Import a content pack", korean: "콘텐츠 팩 가져오기"), uploadForm(page))
    }

    /// `POST /console/import`: what importing the sent pack would change, and nothing written.
    func previewImport(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let page = ConsolePage(request, signedIn: signedIn)
        guard let data = posted.files["pack"], !data.isEmpty else {
            return page.response(
                Words("Import a content pack", korean: "콘텐츠 팩 가져오기"), status: .unprocessableContent,
                """
                \(problem(Words("Choose a pack file (.json) to preview.", korean: "미리 볼 팩 파일(.json)을 고르세요."), page))
                \(uploadForm(page))
                """)
        }
        // The confirmation posts the pack back in base64, within the same body limit.
        guard (data.count + 2) / 3 * 4 + 4_096 <= configuration.maxBodyBytes else {
            let megabytes = String(format: "%.1f", Double(data.count) / 1_000_000)
            let tooLarge = Words(
                "This pack (\(megabytes) MB) is too large to import in the console: import it with 'haven-server import --dry-run', then 'haven-server import', on the server.",
                korean: "이 팩(\(megabytes) MB)은 콘솔에서 가져오기에 너무 큽니다. 서버에서 'haven-server import --dry-run'으로 확인한 뒤 'haven-server import'로 가져오세요.")
            return page.response(
                Words("Import a content pack", korean: "콘텐츠 팩 가져오기"), status: .contentTooLarge,
                "\(problem(tooLarge, page))\(uploadForm(page))")
        }
        return try await importAnswer(data, overwrite: posted.text("overwrite") == "on", confirmed: nil, page: page)
    }

    /// `POST /console/import/confirm`: the import previewed, written when it still does what the
    /// preview showed; the new preview otherwise.
    func confirmImport(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let posted = try await posted(request, by: signedIn)
        let page = ConsolePage(request, signedIn: signedIn)
        guard let data = Data(base64Encoded: posted.text("pack")) else { throw ConsoleProblem.staleForm }
        return try await importAnswer(
            data, overwrite: posted.text("overwrite") == "on", confirmed: posted.text("fingerprint"), page: page)
    }

    /// `GET /console/export?…`: the records the same query lists, as a content pack, each with its
    /// version, so that importing it later never undoes a newer edit.
    func export(_ request: Request, context: HavenRequestContext) async throws -> Response {
        let signedIn = try await editor(request)
        let listing = RecordListing(request.uri.queryParameters)
        let records = listing.apply(to: try await RecordListing.visible(to: signedIn.caller, in: store)).filter { !$0.isDeleted }
        let pack = ContentPack(
            records: records.map { record in
                ContentPack.Record(
                    id: record.id, kind: record.kind, fields: record.state.values.filter { $0.value != .null },
                    version: record.state.latestStamp)
            })
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8",
                .contentDisposition: "attachment; filename=\"haven-pack.json\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try pack.canonicalJSON())))
    }

    /// Reads the pack, then previews its import, or with `confirmed` (the fingerprint of the
    /// preview the editor read) writes it.
    private func importAnswer(_ data: Data, overwrite: Bool, confirmed: String?, page: ConsolePage) async throws -> Response {
        let title = Words("Import a content pack", korean: "콘텐츠 팩 가져오기")
        let reading: PackReading
        do {
            reading = try ContentPack.read(data)
        } catch {
            let lines = error.problems.map { line -> HTML in "<li>\(line)</li>" }
            return page.response(
                title, status: .unprocessableContent,
                """
                \(problem(Words("This file is not a pack that can be imported; nothing was imported:", korean: "가져올 수 있는 팩이 아닙니다. 아무것도 가져오지 않았습니다:"), page))
                <ul>\(lines)</ul>\(uploadForm(page))
                """)
        }
        // Records without an id were given one: the confirmed import must use the same ids.
        let pack = reading.generatedIDs.isEmpty ? data : try ContentPack.writingIDs(of: reading, into: data)
        let caller = page.signedIn!.caller
        var clock = HybridLogicalClock(replica: RecordForm.replica(of: caller), wallClock: self.clock)
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let outcomes: [ImportOutcome]
        do {
            outcomes = try await log.importRecords(
                reading.pack, by: caller, clock: &clock, changeID: { "console-import-\(run)-\($0)" },
                overwrite: overwrite, dryRun: confirmed == nil, now: self.clock(), review: configuration.review,
                confirm: { outcomes in
                    let preview = ImportPreview(outcomes)
                    if let confirmed, preview.fingerprint != confirmed { throw ImportPreviewOutdated(preview: preview) }
                })
        } catch let refused as PackRefused {
            let lines = refused.refusals.map { refusal -> HTML in
                "<li>\(page.text(Words("record \(refusal.number)", korean: "\(refusal.number)번째 기록"))) (<code>\(refusal.id)</code>): \(refusal.error.message)</li>"
            }
            return page.response(
                title, status: .unprocessableContent,
                """
                \(problem(Words("\(refused.refusals.count) of \(reading.pack.records.count) records would be refused, so nothing is imported:", korean: "기록 \(reading.pack.records.count)개 중 \(refused.refusals.count)개가 거부되므로 아무것도 가져오지 않습니다:"), page))
                <ul>\(lines)</ul>\(uploadForm(page))
                """)
        } catch let outdated as ImportPreviewOutdated {
            let notice = problem(
                Words(
                    "Records changed since the preview: nothing was imported. Read what the import would do now.",
                    korean: "미리 본 뒤 기록이 바뀌어 아무것도 가져오지 않았습니다. 지금 가져오면 어떻게 되는지 다시 확인하세요."), page)
            return previewPage(outdated.preview, pack: pack, overwrite: overwrite, notice: notice, status: .conflict, page: page)
        }
        let preview = ImportPreview(outcomes)
        guard confirmed != nil else { return previewPage(preview, pack: pack, overwrite: overwrite, page: page) }
        let counts = preview.summary
        return page.response(
            Words("Imported", korean: "가져왔습니다"),
            """
            <p class="notice" role="status">\(page.text(Words("\(counts.added) added, \(counts.updated) updated, \(counts.unchanged) unchanged, \(counts.skipped.count) skipped.", korean: "추가 \(counts.added)개, 갱신 \(counts.updated)개, 그대로 \(counts.unchanged)개, 건너뜀 \(counts.skipped.count)개.")))</p>
            \(changeTable(preview, page: page))
            <p><a href="/console/records">\(page.text(Words("Back to the records", korean: "기록 목록으로")))</a></p>
            """)
    }

    private func previewPage(
        _ preview: ImportPreview, pack: Data, overwrite: Bool, notice: HTML = "", status: HTTPResponse.Status = .ok,
        page: ConsolePage
    ) -> Response {
        let counts = preview.summary
        let confirm: HTML =
            preview.writes == 0
            ? "<p>\(page.text(Words("Importing this pack would change nothing.", korean: "이 팩을 가져와도 바뀌는 것이 없습니다.")))</p>"
            : """
            <form method="post" action="/console/import/confirm">\(page.formKey)\
            <input type="hidden" name="pack" value="\(pack.base64EncodedString())">\
            <input type="hidden" name="overwrite" value="\(overwrite ? "on" : "")">\
            <input type="hidden" name="fingerprint" value="\(preview.fingerprint)">
            <button type="submit">\(page.text(Words("Confirm the import (\(preview.writes) records written)", korean: "가져오기 확인 (기록 \(preview.writes)개 저장)")))</button>
            </form>
            """
        return page.response(
            Words("Preview of the import", korean: "가져오기 미리 보기"), status: status,
            """
            \(notice)
            <p role="status">\(page.text(Words("Nothing is written until you confirm. Would add \(counts.added), update \(counts.updated), leave \(counts.unchanged) unchanged and skip \(counts.skipped.count).", korean: "확인하기 전에는 아무것도 저장하지 않습니다. 추가 \(counts.added)개, 갱신 \(counts.updated)개, 그대로 \(counts.unchanged)개, 건너뜀 \(counts.skipped.count)개.")))</p>
            \(changeTable(preview, page: page))
            \(confirm)
            """)
    }

    /// Each record the import touches, with its fields old value left and new value right.
    private func changeTable(_ preview: ImportPreview, page: ConsolePage) -> HTML {
        let rows = preview.rows.map { row -> HTML in
            let changes = row.changes.map { change -> HTML in
                let old = change.old == .null ? "" : RecordForm.display(change.old)
                return """
                    <tr><td>\(change.field)</td><td class="value old">\(old)</td>\
                    <td class="value new">\(RecordForm.display(change.new))</td></tr>
                    """
            }
            let reason: HTML = row.reason.map { "<br><small>\($0)</small>" } ?? ""
            let fields: HTML = changes.isEmpty ? "" : "<table class=\"diff\"><tbody>\(changes)</tbody></table>"
            return """
                <tr><td>\(row.number)</td><td>\(row.title)<br><code>\(row.id)</code></td>\
                <td>\(page.text(row.action.words))\(reason)</td><td>\(fields)</td></tr>
                """
        }
        return """
            <table><thead><tr><th scope="col">#</th><th scope="col">\(page.text(Words("Record", korean: "기록")))</th>\
            <th scope="col">\(page.text(Words("What happens", korean: "하는 일")))</th>\
            <th scope="col">\(page.text(Words("Fields (old → new)", korean: "필드 (이전 → 새 값)")))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
    }

    private func uploadForm(_ page: ConsolePage) -> HTML {
        """
        <form method="post" action="/console/import" enctype="multipart/form-data">\(page.formKey)
        <label for="pack">\(page.text(Words("Content pack (.json)", korean: "콘텐츠 팩 (.json)")))</label>
        <input type="file" id="pack" name="pack" accept=".json,application/json">
        <label><input type="checkbox" name="overwrite"> \(page.text(Words("Replace records changed here after the pack was made", korean: "팩을 만든 뒤 여기서 바뀐 기록도 덮어쓰기")))</label>
        <button type="submit">\(page.text(Words("Preview", korean: "미리 보기")))</button>
        </form>
        <p><a href="/console/export">\(page.text(Words("Export every record as a pack", korean: "모든 기록을 팩으로 내보내기")))</a></p>
        """
    }

    private func problem(_ words: Words, _ page: ConsolePage) -> HTML {
        "<p class=\"problem\" role=\"alert\">\(page.text(words))</p>"
    }
}
