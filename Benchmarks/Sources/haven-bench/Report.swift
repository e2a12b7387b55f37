import Foundation

/// The figures as Markdown tables, each with its target and whether it was met.
struct Report {
    let sizes: [SizeResult]
    let issue20: Issue20Result?
    let slow: SlowLinkResult?
    let seconds: Double
    let seed: UInt64

    static let begin = "<!-- figures:begin (written by haven-bench; edits here are overwritten) -->"
    static let end = "<!-- figures:end -->"

    var markdown: String {
        var lines: [String] = []
        lines.append(
            "Run of \(Self.date()) on \(Self.machine()), seed \(seed), \(Int(seconds)) s in all. "
                + "Ratios are to floors measured in the same run.")
        if !sizes.isEmpty { sizeTables(into: &lines) }
        if let issue20 { issue20Loopback(issue20, into: &lines) }
        if let slow { slowLink(slow, into: &lines) }
        againstKinto(into: &lines)
        return lines.joined(separator: "\n")
    }

    /// Measurements 1 to 4, 6 and 8: a column a size.
    private func sizeTables(into lines: inout [String]) {
        let header = "| | " + sizes.map { number($0.records) + " records" }.joined(separator: " | ") + " | target |"
        let rule = "|---|" + sizes.map { _ in "---:|" }.joined() + "---|"
        func row(_ name: String, _ target: String = "", _ value: (SizeResult) -> String) {
            lines.append("| \(name) | " + sizes.map(value).joined(separator: " | ") + " | \(target) |")
        }
        lines.append("")
        lines.append("#### Data")
        lines += ["", header, rule]
        row("content pack (JSON, no stamps)") { bytes($0.packBytes) }
        row("records as the replica holds them (JSON with stamps)") { bytes($0.jsonBytes) }
        row("gzip floor: those records as one gzip stream") { bytes($0.gzipFloorBytes) }

        lines += ["", "#### 1. Publish (editor: `haven import`, then `haven push` over HTTP)", "", header, rule]
        row("`haven import` into the editor's replica") { secs($0.importSeconds) }
        row("`haven push`: wall time") { secs($0.publishSeconds) }
        row("records/s", "≥ 5,000") { mark(rate($0.records, $0.publishSeconds), Double($0.records) / $0.publishSeconds >= 5_000) }
        row("bytes sent (request bodies, gzipped)") { bytes($0.publishBodyBytes) }
        row("server peak memory (whole publish)") { bytes($0.publishServerPeak) }

        lines += ["", "#### 2. First sync (fresh replica, `haven sync`, loopback)", "", header, rule]
        row("wall time (whole `haven sync` process)") { secs($0.firstSyncSeconds) }
        row("records/s", "≥ 20,000") { mark(rate($0.records, $0.firstSyncSeconds), Double($0.records) / $0.firstSyncSeconds >= 20_000) }
        row("raw SQLite floor: same rows, same schema, one transaction (search index deferred)") {
            secs($0.rawInsertSeconds)
        }
        row("time ÷ floor", "≤ 3×") { mark(ratio($0.firstSyncSeconds, $0.rawInsertSeconds), $0.firstSyncSeconds <= 3 * $0.rawInsertSeconds) }
        row("pages") { number($0.firstSyncPages) }
        row("bytes received, compressed (response bodies; the stream in zstd)") { bytes($0.firstSyncBodyBytes) }
        row("bytes ÷ gzip floor", "≤ 1.2×") {
            mark(ratio(Double($0.firstSyncBodyBytes), Double($0.gzipFloorBytes)), Double($0.firstSyncBodyBytes) <= 1.2 * Double($0.gzipFloorBytes))
        }
        row("bytes uncompressed (same pull in-process, bodies inflated)") { bytes($0.firstSyncInflatedBytes) }
        row("client peak memory (`haven sync`, its own ru_maxrss via peak-rss)", "flat in N") { bytes($0.firstSyncClientPeak) }
        row("server peak memory (fresh process, VmHWM)") { bytes($0.firstSyncServerPeak) }

        lines += ["", "#### 3. Incremental sync (100 stories: new summary; 20 deleted)", "", header, rule]
        row("wall time") { secs($0.incrementalSeconds) }
        row("records pulled") { number($0.incrementalRecords) }
        row("bytes down, wire (headers included)") { bytes($0.incrementalWireDown) }
        row("bytes up, wire (headers included)") { bytes($0.incrementalWireUp) }
        row("changed registers as JSON / gzipped") { bytes($0.changedFieldsJSON) + " / " + bytes($0.changedFieldsGzip) }
        row("wire down ÷ gzip of changed registers", "≤ 2×") {
            mark(ratio(Double($0.incrementalWireDown), Double($0.changedFieldsGzip)), $0.incrementalWireDown <= 2 * $0.changedFieldsGzip)
        }

        lines += ["", "#### 4. No-change poll (`haven sync` with nothing new, through a counting proxy)", "", header, rule]
        row("bytes up + down, wire (headers included)", "< 500") {
            mark("\($0.pollUp) + \($0.pollDown) = \($0.pollUp + $0.pollDown)", $0.pollUp + $0.pollDown < 500)
        }
        row("wall time (median of 5, whole process)") { secs($0.pollSeconds) }

        lines += ["", "#### 6. Local operations (in-process, release build; p50 / p90 / p99 / max)", "", header, rule]
        row("add a story") { $0.addStory?.text ?? "–" }
        row("edit a story's summary") { $0.editStory?.text ?? "–" }
        row("first search after the first sync (before the deferred index is built: the text is read)", "≤ 0.2 s (issue 20)") {
            mark(secs($0.firstSearchSeconds), $0.firstSearchSeconds <= Issue20Target.firstSearch)
        }
        row("the 6 queries before the index is built (once each)") { $0.searchBeforeIndex?.text ?? "–" }
        row("then the deferred index built in one pass (as `haven search` does after answering)") {
            secs($0.indexBuildSeconds)
        }
        row("floor of that: the index built in one pass over the raw floor's rows") { secs($0.rawIndexSeconds) }
        row("the 6 queries' results, scores included, the same before and after the index", "identical") {
            mark($0.searchSameAfterIndex ? "identical" : "DIFFERENT", $0.searchSameAfterIndex)
        }
        row("search (FTS5 trigram, 6 queries × 5)", "p50 ≤ 20 ms, p99 ≤ 100 ms (issue 20)") { result in
            result.search.map { mark($0.text, Issue20Target.searchMet($0)) } ?? "–"
        }
        row("search, 2-character terms (substring scan, 2 queries × 5)") { $0.searchShort?.text ?? "–" }
        row("`haven wipe --yes` of the synced replica with its unsent edits (whole process)", "< 2 s") {
            mark("\(secs($0.wipeSeconds)) (\($0.wipeUnsent) unsent)", $0.wipeSeconds < 2)
        }

        lines += [
            "", "#### 8. Encrypted replica (AES-256-GCM pages; passphrase through scrypt, N=2^17, r=8, p=1)", "",
            header, rule,
        ]
        row("first sync into a plaintext replica (`haven sync`, server warm)") { secs($0.encryption.plainSyncSeconds) }
        row("the same into an encrypted replica") { secs($0.encryption.encryptedSyncSeconds) }
        row("encrypted ÷ plaintext", "≤ 1.3×") {
            mark(ratio($0.encryption.encryptedSyncSeconds, $0.encryption.plainSyncSeconds),
                $0.encryption.encryptedSyncSeconds <= 1.3 * $0.encryption.plainSyncSeconds)
        }
        row("open: `haven status`, plaintext (whole process, median of 3)") { secs($0.encryption.plainOpenSeconds) }
        row("open: `haven status`, encrypted (key derivation included)", "< 1 s") {
            mark(secs($0.encryption.encryptedOpenSeconds), $0.encryption.encryptedOpenSeconds < 1)
        }
        row("`haven encrypt` of the synced plaintext replica, in place") { secs($0.encryption.encryptInPlaceSeconds) }
    }

    /// Replaces what lies between the markers of `file` (or appends them) with `figures`.
    static func write(_ figures: String, into file: String) throws {
        var text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? "# Benchmarks\n\n"
        let block = begin + "\n\n" + figures + "\n\n" + end
        if let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) {
            text.replaceSubrange(start.lowerBound..<stop.upperBound, with: block)
        } else {
            text += "\n" + block + "\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }

    private static func date() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date())
    }

    private static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), "
            + "\(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }
}

func number(_ value: Int) -> String {
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.groupingSeparator = ","
    return formatter.string(from: NSNumber(value: value)) ?? "\(value)"
}

func bytes(_ value: Int) -> String {
    if value >= 10 << 20 { return String(format: "%.1f MiB", Double(value) / Double(1 << 20)) }
    if value >= 10 << 10 { return String(format: "%.1f KiB", Double(value) / 1024) }
    return "\(number(value)) B"
}

func secs(_ value: Double) -> String {
    value >= 10 ? String(format: "%.1f s", value) : value >= 0.1 ? String(format: "%.2f s", value) : String(format: "%.1f ms", value * 1000)
}

func rate(_ count: Int, _ seconds: Double) -> String { number(Int(Double(count) / seconds)) }
func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f×", a / b) }
func mark(_ text: String, _ met: Bool) -> String { text + (met ? " ✅" : " ❌") }
