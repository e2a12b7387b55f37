import Hummingbird
import NIOCore

/// The console's one style sheet, in the binary: served at `/console/style.css`, no CDN.
/// Plain and readable on a phone; contrast at least 4.5:1; the keyboard focus always visible.
enum ConsoleStyle {
    static let css = """
        *{box-sizing:border-box}
        body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}
        header{background:#12355b;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between}
        header a,header .who{color:#fff;margin-right:.75rem}
        header a[aria-current]{font-weight:bold;text-decoration-thickness:3px}
        main{padding:1rem;max-width:60rem;margin:auto}
        a{color:#0b4f8a}
        :focus-visible{outline:3px solid #d4760a;outline-offset:2px}
        label{display:block;font-weight:600;margin-top:.75rem}
        input,select,textarea,button{font:inherit;padding:.4rem;max-width:100%}
        input[type=text],input[type=password],input[type=search],textarea,select{width:100%}
        textarea{min-height:8rem}
        textarea.comment{min-height:4rem}
        button{background:#12355b;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;margin-top:.75rem;cursor:pointer}
        button.danger{background:#a4161a}
        form.inline{display:inline}
        form.inline button{margin-top:0}
        .error{color:#a4161a;font-weight:600;margin:.25rem 0}
        .notice{background:#eef6ee;border-left:4px solid #2b7a2b;padding:.5rem}
        .problem{background:#fdeeee;border-left:4px solid #a4161a;padding:.5rem}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.35rem;border-bottom:1px solid #ccc;vertical-align:top}
        .filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;align-items:end}
        .filters label{margin-top:0}
        .badge{display:inline-block;padding:0 .4rem;border-radius:4px;background:#e6e6e6;font-size:.85em}
        .value{white-space:pre-wrap;overflow-wrap:anywhere}
        .diff .old{background:#fdeeee}
        .diff .new{background:#eef6ee}
        .chart{max-width:100%;height:auto}
        .swatch.push{color:#12355b}
        .swatch.pull{color:#d4760a}
        code{overflow-wrap:anywhere}
        @media (max-width:40rem){table,tbody,tr,td,th{display:block}thead{display:none}tr{border-bottom:2px solid #ccc}}
        """

    /// `GET /console/style.css`.
    static func serve(_ request: Request, context: HavenRequestContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: css)))
    }
}
