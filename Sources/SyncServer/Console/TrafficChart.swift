import Foundation
import HavenCore

/// The health page's chart: pushes and pulls per hour over the last day, as inline SVG (no
/// script, no image request, nothing the Content-Security-Policy forbids), with the same
/// numbers in a table for screen readers and for reading exact values.
struct TrafficChart {
    let hours: [ServerActivity.Hour]

    static let width = 480
    static let height = 120
    static let push = "#12355b"
    static let pull = "#d4760a"

    func figure(on page: ConsolePage) -> HTML {
        let pushes = hours.reduce(0) { $0 + $1.pushes }
        let pulls = hours.reduce(0) { $0 + $1.pulls }
        let summary = page.text(
            Words(
                "Pushes and pulls per hour, last 24 hours, on this server since it started: \(pushes) pushes, \(pulls) pulls.",
                korean: "최근 24시간, 시간별 푸시와 풀 (이 서버가 시작한 뒤): 푸시 \(pushes)번, 풀 \(pulls)번."))
        let rows = hours.filter { $0.pushes + $0.pulls > 0 }.map { hour -> HTML in
            "<tr><td>\(ConsolePage.time(hour.start))</td><td>\(hour.pushes)</td><td>\(hour.pulls)</td></tr>"
        }
        return """
            <figure><figcaption>\(summary)</figcaption>
            \(svg(label: summary, endLabel: page.text(Words("now", korean: "지금"))))
            <p><span class="swatch push" aria-hidden="true">■</span> push <span class="swatch pull" aria-hidden="true">■</span> pull</p>
            <details><summary>\(page.text(Words("Numbers", korean: "숫자")))</summary>
            <table><thead><tr><th scope="col">\(page.text(Words("Hour (UTC)", korean: "시각 (UTC)")))</th>\
            <th scope="col">push</th><th scope="col">pull</th></tr></thead><tbody>\(rows)</tbody></table></details>
            </figure>
            """
    }

    /// Two bars an hour, pushes then pulls, scaled to the busiest hour.
    private func svg(label: String, endLabel: String) -> HTML {
        let peak = max(1, hours.map { max($0.pushes, $0.pulls) }.max() ?? 1)
        let slot = Double(Self.width) / Double(max(hours.count, 1))
        let bar = slot * 0.4
        let bars = hours.enumerated().map { index, hour -> HTML in
            func rect(_ count: Int, _ x: Double, _ color: String) -> HTML {
                let height = Double(Self.height - 2) * Double(count) / Double(peak)
                return "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(Double(Self.height) - height))\" width=\"\(Self.number(bar))\" height=\"\(Self.number(height))\" fill=\"\(color)\"></rect>"
            }
            let x = Double(index) * slot
            return HTML(joining: [rect(hour.pushes, x + slot * 0.1, Self.push), rect(hour.pulls, x + slot * 0.5, Self.pull)])
        }
        return """
            <svg class="chart" role="img" aria-label="\(label)" viewBox="0 0 \(Self.width) \(Self.height + 18)" width="\(Self.width)" height="\(Self.height + 18)">\
            <line x1="0" y1="\(Self.height - 1)" x2="\(Self.width)" y2="\(Self.height - 1)" stroke="#767676"></line>\(bars)\
            <text x="0" y="\(Self.height + 14)" font-size="12" fill="#1a1a1a">−24 h</text>\
            <text x="\(Self.width)" y="\(Self.height + 14)" font-size="12" fill="#1a1a1a" text-anchor="end">\(endLabel)</text></svg>
            """
    }

    private static func number(_ value: Double) -> String { String(format: "%.1f", value) }
}
