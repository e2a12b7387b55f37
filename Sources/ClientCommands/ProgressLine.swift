import Foundation
import HavenClient
import HavenCore
import Synchronization

/// One line of sync progress on standard error, rewritten in place; silent unless a person is
/// watching a terminal, so pipes and logs get only the final summary.
///
/// For example:
/// ```swift
/// let line = ProgressLine.forTerminal()
/// let engine = SyncEngine(replica: replica, api: api, progress: line.update)
/// defer { line.finish() }
/// ```
final class ProgressLine: Sendable {
    private let isEnabled: Bool
    private let write: @Sendable (String) -> Void
    /// The width of the text on screen, to blank it out.
    private let shown = Mutex(0)

    /// - Parameters:
    ///   - enabled: whether to write at all.
    ///   - write: where the text goes; standard error by default.
    init(enabled: Bool, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) })
    {
        self.isEnabled = enabled
        self.write = write
    }

    /// A line that shows only when both standard output and standard error are terminals.
    static func forTerminal() -> ProgressLine {
        ProgressLine(
            enabled: shows(stdoutIsTerminal: isatty(STDOUT_FILENO) == 1, stderrIsTerminal: isatty(STDERR_FILENO) == 1))
    }

    /// Whether progress is shown: only to a person at a terminal, never into a pipe or a file.
    static func shows(stdoutIsTerminal: Bool, stderrIsTerminal: Bool) -> Bool {
        stdoutIsTerminal && stderrIsTerminal
    }

    /// Rewrites the line for `progress`.
    @Sendable func update(_ progress: SyncProgress) {
        guard isEnabled else { return }
        // The last failure may quote the server's own words.
        let text = TerminalText.escaped(Self.text(progress))
        shown.withLock { width in
            let columns = TerminalText.columns(text)
            write("\r" + text + String(repeating: " ", count: max(0, width - columns)))
            width = columns
        }
    }

    /// Blanks the line, so that what follows starts on a clean one.
    func finish() {
        guard isEnabled else { return }
        shown.withLock { width in
            guard width > 0 else { return }
            write("\r" + String(repeating: " ", count: width) + "\r")
            width = 0
        }
    }

    /// The line for `progress`, such as
    /// `received 1200 of 3034 records (1.1 of 2.9 MB), about 20 s left, sent 12 changes`, or once
    /// the last page came, `received 3034 records (2.9 MB) in 6 pages`, or with a failure
    /// `…; retrying in 4 s: the connection to http://… was lost`,
    /// or `syncing; retrying in 1 s: cannot connect to the server` before anything got through;
    /// in Korean `기록 3034개 중 1200개 받음 (2.9 MB 중 1.1 MB), 약 20초 남음, 변경 12개 보냄`.
    static func text(_ progress: SyncProgress) -> String {
        let summary = progress.summary
        var parts: [Words] = []
        if let pull = progress.pull {
            let total = summary.pulledRecords + pull.remainingRecords
            let (received, expected) = (
                byteCount(pull.receivedBytes), byteCount(max(pull.expectedBytes, pull.receivedBytes))
            )
            var text = Words(
                "received \(summary.pulledRecords) of \(total) records (\(received) of \(expected))",
                korean: "기록 \(total)개 중 \(summary.pulledRecords)개 받음 (\(expected) 중 \(received))")
            if let seconds = pull.secondsLeft {
                let left = timeLeft(seconds)
                text = text + Words(", about \(left.english) left", korean: ", 약 \(left.korean) 남음")
            }
            parts.append(text)
        } else if summary.pages > 0 {
            let (records, pages, bytes) = (summary.pulledRecords, summary.pages, byteCount(summary.bytesReceived))
            parts.append(
                Words(
                    "received \(records) record\(records == 1 ? "" : "s") (\(bytes)) in \(pages) page\(pages == 1 ? "" : "s")",
                    korean: "기록 \(records)개 받음 (\(bytes), 페이지 \(pages)개)"))
        }
        if let media = progress.media {
            let (done, total) = (byteCount(Int(media.bytes)), byteCount(Int(media.total)))
            let rate = media.bytesPerSecond.map { " (\(byteCount(Int($0)))/s)" } ?? ""
            let name = TerminalText.escaped(media.name)
            parts.append(
                media.uploading
                    ? Words("sending \(name): \(done) of \(total)\(rate)", korean: "\(name) 보내는 중: \(total) 중 \(done)\(rate)")
                    : Words("receiving \(name): \(done) of \(total)\(rate)", korean: "\(name) 받는 중: \(total) 중 \(done)\(rate)"))
        }
        if summary.pushed > 0 {
            parts.append(
                Words(
                    "sent \(summary.pushed) change\(summary.pushed == 1 ? "" : "s")",
                    korean: "변경 \(summary.pushed)개 보냄"))
        }
        var text = parts.isEmpty ? Words("syncing", korean: "동기화 중") : parts.joined(separator: Words(", ", korean: ", "))
        if let delay = progress.retryingIn {
            let seconds = Int(delay.rounded(.up))
            text = text + Words("; retrying in \(seconds) s", korean: ". \(seconds)초 뒤에 다시 시도")
            // The failure was put in words when it happened, in the language of this task.
            if let failure = progress.lastFailure { text = text + Words(": \(failure)", korean: ": \(failure)") }
        }
        return text.text
    }
}

/// A time left as a person reads it: 40 s, 3 min, 2 h (rounded up: "1 s" rather than "0 s").
func timeLeft(_ seconds: Double) -> Words {
    let whole = Int(min(seconds, 1e9).rounded(.up))
    return age(max(1, whole))
}

/// A byte count as a person reads it: 812 B, 14.2 KB, 3.1 MB.
func byteCount(_ bytes: Int) -> String {
    switch bytes {
    case ..<1000: "\(bytes) B"
    case ..<1_000_000: String(format: "%.1f KB", Double(bytes) / 1000)
    default: String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
