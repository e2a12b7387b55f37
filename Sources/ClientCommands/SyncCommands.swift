import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven init`: creates the replica for one server and token, once the server is checked.
///
/// The token is best read from a file or standard input: on the command line it shows in `ps` to
/// every user of the machine and stays in the shell's history.
struct InitCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "init", abstract: Words("Create a replica for a server.", korean: "서버에 쓸 복제본을 만듭니다.").text,
            discussion: TokenOptions.discussion + "\n"
                + Words(
                    """
                    Before saving anything, init checks that the server answers, is a Haven server and takes the \
                    token, and says which of these failed; --offline skips this, for a device with no link (the \
                    first sync checks them).
                    For an https:// server, init shows the SHA-256 of the server's public key and pins it: compare it \
                    with the one the server's admin gave you, or give that one with --pin sha256/BASE64. Later \
                    connections refuse any other key, whoever signed its certificate.
                    init also pins the publisher's signing key (shown as ed25519:…; or give it with --publisher-key): \
                    every sync checks the published content against its signature.
                    """,
                    korean: """
                    무엇이든 저장하기 전에 init은 서버가 답하는지, Haven 서버인지, 토큰을 받아들이는지 확인하고, \
                    그중 무엇이 안 되었는지 알려 줍니다. --offline은 이 확인을 건너뜁니다 (연결이 없는 기기용. 첫 \
                    동기화 때 확인합니다).
                    https:// 서버이면 init은 서버 공개 키의 SHA-256을 보여 주고 그 키를 고정합니다: 서버 관리자가 \
                    알려 준 값과 비교하거나, 그 값을 --pin sha256/BASE64로 주세요. 그 뒤의 연결은 누가 인증서에 \
                    서명했든 다른 키를 모두 거부합니다.
                    init은 발행자의 서명 키도 고정합니다 (ed25519:…로 보여 주거나 --publisher-key로 줄 수 \
                    있습니다): 동기화할 때마다 발행된 내용을 그 서명으로 확인합니다.
                    """
                ).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Option(
        help: ArgumentHelp(
            Words(
                "The server's address, such as http://127.0.0.1:8080.",
                korean: "서버 주소 (예: http://127.0.0.1:8080).")))
    var server: String
    @OptionGroup var token: TokenOptions
    @Option(
        help: ArgumentHelp(
            Words(
                "The https:// server's key as its admin gave it; init refuses any other.",
                korean: "서버 관리자가 알려 준 https:// 서버의 키. init은 다른 키를 거부합니다."), valueName: "sha256/BASE64"))
    var pin: String?
    @Flag(help: ArgumentHelp(.insecureHTTPHelp)) var insecureHTTP = false
    @Flag(
        help: ArgumentHelp(
            Words(
                "Keep the replica in plaintext: whoever holds the device can read it.",
                korean: "복제본을 평문으로 둡니다: 기기를 손에 넣은 누구나 읽을 수 있습니다.")))
    var noEncryption = false
    @Flag(
        help: ArgumentHelp(
            Words(
                "Create the replica without reaching the server (no link now); the first sync checks it.",
                korean: "서버에 닿지 않고 복제본을 만듭니다 (지금 연결이 없을 때). 첫 동기화 때 서버를 확인합니다.")))
    var offline = false
    @Option(
        help: ArgumentHelp(
            Words(
                "The publisher's signing key as its admin gave it (fingerprint ed25519:… or the key); init refuses any "
                    + "other.",
                korean: "관리자가 알려 준 발행자 서명 키 (지문 ed25519:… 또는 키 자체). init은 다른 키를 모두 거부합니다."),
            valueName: "key"))
    var publisherKey: String?

    func validate() throws {
        let url = try ServerAddress.parse(server, pin: pin)
        try PlainHTTPRule.check(url, insecureHTTPAllowed: insecureHTTP)
    }

    func run() async throws {
        let secret = try token.read()
        let passphrase = noEncryption
            ? nil
            : try replica.passphrase.source().readNew(
                prompt: Words("New passphrase for \(replica.path): ", korean: "\(replica.path)의 새 암호문구: ").text)
        let url = URL(string: server)!
        var link = Replica.Link(insecureHTTP: insecureHTTP)
        if url.scheme == "https", !offline || pin != nil {
            link.pin = try await ServerAddress.pinKey(of: url, expected: pin)
        } else if url.scheme == "https" {
            throw ValidationError(
                Words(
                    "an https:// server's key must be pinned: give --pin sha256/… with --offline",
                    korean: "https:// 서버의 키는 고정해야 합니다: --offline과 함께 --pin sha256/…을 주세요"
                ).text)
        }
        let account = offline ? nil : try await ServerAddress.check(url, token: secret, link: link)
        // Offline, the first signed sync pins the key it names (with --publisher-key, only that one).
        let publisher =
            offline
            ? try publisherKey.map(PublisherPin.parseRawKey)
            : try await PublisherPin.fetch(from: url, token: secret, link: link, expected: publisherKey)
        let created =
            try passphrase.map { try Replica.createEncrypted(at: replica.path, server: url, token: secret, link: link, passphrase: $0).replica() }
            ?? Replica.create(at: replica.path, server: url, token: secret, link: link)
        if let account { try created.saveAccount(account) }
        if let publisher { try created.pinPublisherKey(publisher) }
        let replicaID = try created.settings().replicaID
        print(
            passphrase == nil
                ? Words(
                    "created plaintext replica \(created.path) (replica id \(replicaID)); run 'haven sync' next",
                    korean: "암호화하지 않은 복제본을 만들었습니다: \(created.path) (복제본 id \(replicaID)). "
                        + "다음으로 'haven sync'를 실행하세요")
                : Words(
                    "created encrypted replica \(created.path) (replica id \(replicaID)); run 'haven sync' next",
                    korean: "암호화된 복제본을 만들었습니다: \(created.path) (복제본 id \(replicaID)). "
                        + "다음으로 'haven sync'를 실행하세요"))
    }
}

/// Options shared by the commands that talk to the server.
struct SyncOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Words(
                "Most changes per push request; the batch adapts to the link below it.",
                korean: "보내기 요청 한 번에 담는 변경의 최대 개수. 연결 상태에 따라 이보다 작게 조절됩니다.")))
    var batchSize: Int = SyncEngine.Configuration.defaultBatchSize
    @Option(
        help: ArgumentHelp(
            Words(
                "Most records per pull page; the page adapts to the link below it, and the server may send fewer.",
                korean: "받기 페이지 하나에 담는 기록의 최대 개수. 연결 상태에 따라 이보다 작게 조절되고, 서버가 더 적게 보낼 수도 있습니다.")))
    var pageSize: Int = SyncEngine.Configuration.defaultPageLimit
    @Option(
        help: ArgumentHelp(
            Words(
                "Keep retrying this long while nothing gets through (0: never retry).",
                korean: "아무것도 오가지 않는 동안 이만큼(초) 다시 시도합니다 (0: 다시 시도하지 않음)."), valueName: "seconds"))
    var retryFor: Double = 300
    @Option(
        help: ArgumentHelp(
            Words(
                "Give up one request after this many seconds.",
                korean: "요청 하나를 이만큼(초) 기다린 뒤 포기합니다."), valueName: "seconds"))
    var timeout: Double = 30
    @Flag(help: ArgumentHelp(.printJSONSummaryHelp)) var json = false

    /// The largest `--page-size`: the client's own bound, far above any server's page limit.
    static let largestPage = 100_000

    func validate() throws {
        guard (1...1000).contains(batchSize) else { throw OptionProblem.outOfRange("--batch-size", 1...1000) }
        // The server serves a larger page at its own limit, whatever that is.
        guard (1...Self.largestPage).contains(pageSize) else {
            throw OptionProblem.outOfRange("--page-size", 1...Self.largestPage)
        }
        guard retryFor >= 0, retryFor.isFinite else { throw OptionProblem.below("--retry-for", 0, seconds: true) }
        guard (1...3_600).contains(timeout) else { throw OptionProblem.outOfRange("--timeout", 1...3600, seconds: true) }
    }

    /// The engine for `replica`, retrying as these options say (or forever), showing `progress`.
    func engine(for replica: Replica, retryForever: Bool = false, progress: ProgressLine? = nil) throws -> SyncEngine {
        let settings = try replica.settings()
        var api = try settings.serverAPI()
        api.timeout = timeout
        let retry =
            retryForever
            ? RetryPolicy.forever : RetryPolicy(budget: retryFor, maxAttempts: retryFor == 0 ? 1 : nil)
        let configuration = SyncEngine.Configuration(
            batchSize: batchSize, pageLimit: pageSize, retry: retry, slowRequest: timeout / 2)
        var report: (@Sendable (SyncProgress) -> Void)?
        if let progress { report = progress.update }
        return SyncEngine(replica: replica, api: api, configuration: configuration, progress: report)
    }

    func report(_ summary: SyncEngine.Summary) throws {
        if json {
            try printJSON(summary)
        } else {
            Self.summaryLines(summary).forEach { print($0) }
        }
        // Said above in words; a script sees it in the exit status.
        if summary.publishedSet == .failed { throw ExitCode.failure }
    }

    /// What a sync, push or pull prints when it is done, without `--json`.
    static func summaryLines(_ summary: SyncEngine.Summary) -> [String] {
        var lines: [Words] = []
        var parts: [Words] = []
        if summary.pushed > 0 {
            var outcome = [Words("\(summary.applied) applied", korean: "\(summary.applied)개 반영")]
            if summary.duplicate > 0 {
                outcome.append(
                    Words("\(summary.duplicate) already on the server", korean: "\(summary.duplicate)개는 이미 서버에 있음"))
            }
            if summary.rejected > 0 { outcome.append(Words("\(summary.rejected) rejected", korean: "\(summary.rejected)개 거부됨")) }
            if summary.purged > 0 { outcome.append(Words("\(summary.purged) dropped", korean: "\(summary.purged)개 버려짐")) }
            let outcomes = outcome.joined(separator: Words(", ", korean: ", "))
            parts.append(
                Words(
                    "pushed \(summary.pushed) change\(summary.pushed == 1 ? "" : "s") (\(outcomes.english))",
                    korean: "변경 \(summary.pushed)개를 보냈습니다 (\(outcomes.korean))"))
        }
        if summary.pulledRecords > 0 || summary.removedRecords > 0 || summary.keptRecords > 0 {
            parts.append(
                Words(
                    "pulled \(summary.pulledRecords) record\(summary.pulledRecords == 1 ? "" : "s") "
                        + "in \(summary.pages) page\(summary.pages == 1 ? "" : "s")",
                    korean: "기록 \(summary.pulledRecords)개를 받았습니다 (페이지 \(summary.pages)개)"))
        }
        lines.append(
            parts.isEmpty
                ? Words("up to date", korean: "이미 최신 상태입니다") : parts.joined(separator: Words("; ", korean: ". ")))
        if summary.retries > 0 {
            lines.append(
                Words(
                    "the link was unreliable: \(summary.retries) request(s) repeated; the next sync starts at "
                        + "\(summary.batchSize) changes per push, \(summary.pageSize) records per page",
                    korean: "연결이 불안정했습니다: 요청 \(summary.retries)번을 다시 보냈습니다. 다음 동기화는 한 번에 "
                        + "변경 \(summary.batchSize)개, 페이지마다 기록 \(summary.pageSize)개로 시작합니다"))
        }
        if summary.redownloaded {
            lines.append(
                Words(
                    "the server had forgotten this replica's position: everything was downloaded again",
                    korean: "서버가 이 복제본이 어디까지 받았는지 잊었습니다: 모두 새로 내려받았습니다"))
        }
        if summary.removedRecords > 0 {
            lines.append(
                Words(
                    "\(summary.removedRecords) record(s) are no longer visible to this token and were removed",
                    korean: "기록 \(summary.removedRecords)개는 이제 이 토큰으로 볼 수 없어서 지웠습니다"))
        }
        if summary.keptRecords > 0 {
            lines.append(
                Words(
                    "\(summary.keptRecords) record(s) are no longer visible to this token but were kept: they have changes "
                        + "the server has not accepted yet (see 'haven status')",
                    korean: "기록 \(summary.keptRecords)개는 이제 이 토큰으로 볼 수 없지만 남겨 두었습니다: 서버가 아직 "
                        + "받아들이지 않은 변경이 있습니다 ('haven status'를 보세요)"))
        }
        if summary.newConflicts > 0 {
            lines.append(
                Words(
                    "\(summary.newConflicts) new conflict(s): see 'haven conflicts'",
                    korean: "새 충돌 \(summary.newConflicts)개: 'haven conflicts'를 보세요"))
        }
        if summary.restamped > 0 {
            lines.append(
                Words(
                    "this device's clock was ahead of the server's: \(summary.restamped) change(s) were stamped again "
                        + "with the server's time",
                    korean: "이 기기의 시계가 서버보다 빨랐습니다: 변경 \(summary.restamped)개에 서버의 시간을 다시 "
                        + "찍었습니다"))
        }
        if summary.rejected > 0 {
            lines.append(
                Words(
                    "\(summary.rejected) change(s) were rejected and kept: see 'haven status'",
                    korean: "변경 \(summary.rejected)개가 거부되어 남겨 두었습니다: 'haven status'를 보세요"))
        }
        if summary.purged > 0 {
            lines.append(
                Words(
                    "\(summary.purged) unsent change(s) were dropped: their records were deleted on the server and "
                        + "purged for good",
                    korean: "보내지 않은 변경 \(summary.purged)개를 버렸습니다: 그 기록들은 서버에서 삭제된 뒤 "
                        + "완전히 지워졌습니다"))
        }
        if summary.publishedSet == .failed {
            lines.append(
                Words(
                    "published content did NOT match the publisher's signature, twice: \(summary.unverifiedRecords) "
                        + "record(s) are marked unverified, the rest is kept as last verified ('haven status')",
                    korean: "게시된 내용이 게시자의 서명과 두 번 맞지 않았습니다: 기록 \(summary.unverifiedRecords)개를 "
                        + "확인되지 않음으로 표시했고, 나머지는 마지막으로 확인된 상태로 두었습니다 ('haven status')"))
        }
        return lines.map(\.text)
    }
}

/// `haven sync`: push, then pull; with `--watch`, keep doing so until interrupted.
struct SyncCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "sync",
            abstract: Words(
                "Push unsent changes, then pull.",
                korean: "보내지 않은 변경을 보낸 뒤 받습니다.").text,
            discussion: Words(
                """
                Failed requests are retried with backoff for --retry-for seconds without progress; \
                what was received stays saved, so a new sync continues where one stopped. \
                With --watch it keeps the replica current (long-poll), retrying forever, until Ctrl-C or SIGTERM.
                """,
                korean: """
                실패한 요청은 간격을 늘려 가며 --retry-for초 동안 다시 시도합니다 (그동안 진전이 없을 때). \
                받은 것은 저장되어 있으므로 새 동기화는 멈춘 곳에서 이어집니다. \
                --watch를 주면 Ctrl-C나 SIGTERM으로 멈출 때까지 복제본을 최신으로 유지하며 (long-poll) 끝없이 다시 시도합니다.
                """).text)
    }
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions
    @Flag(
        help: ArgumentHelp(
            Words(
                "Keep syncing until interrupted: wait for changes on the server and send new edits.",
                korean: "멈출 때까지 계속 동기화합니다: 서버의 변경을 기다리고 새 편집을 보냅니다.")))
    var watch = false
    @Option(
        help: ArgumentHelp(
            Words(
                "Media files to download after the sync: none (the default: each on demand with 'haven media get'), all, or those up to a size such as 2MB.",
                korean: "동기화 뒤에 받을 미디어 파일: none (기본값: 'haven media get'으로 그때그때), all, 또는 2MB처럼 크기 이하인 것."),
            valueName: "none|all|size"))
    var media: MediaPolicy = .none

    func run() async throws {
        let replica = try replica.open()
        let line = ProgressLine.forTerminal()
        let engine = try options.engine(for: replica, retryForever: watch, progress: line)
        var summary: SyncEngine.Summary
        do {
            summary = watch ? try await Self.watchUntilInterrupted(engine) : try await engine.sync()
            if let limit = media.limit { try await engine.downloadMedia(upTo: limit, into: &summary) }
        } catch {
            line.finish()
            throw error
        }
        line.finish()
        if !watch { await engine.refreshAccount() }  // Watching, it refreshes as it goes.
        try options.report(summary)
    }

    /// Runs ``SyncEngine/watch(into:)`` until SIGINT or SIGTERM, which end it between transactions.
    private static func watchUntilInterrupted(_ engine: SyncEngine) async throws -> SyncEngine.Summary {
        let task = Task {
            var summary = SyncEngine.Summary()
            try await engine.watch(into: &summary)
            return summary
        }
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return try await task.value
    }
}

extension SyncOptions {
    /// Runs `push` or `pull` alone with a progress line, then reports what it did.
    func runHalf(
        on replica: ReplicaOptions, _ step: (SyncEngine, inout SyncEngine.Summary) async throws -> Void
    ) async throws {
        let line = ProgressLine.forTerminal()
        defer { line.finish() }  // also when the step fails
        var summary = SyncEngine.Summary()
        let replica = try replica.open()
        let engine = try engine(for: replica, progress: line)
        try await step(engine, &summary)
        line.finish()
        await engine.refreshAccount()
        try report(summary)
    }
}

/// `haven push`: only send the outbox.
struct PushCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "push",
            abstract: Words("Send unsent changes only.", korean: "보내지 않은 변경을 보내기만 합니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        try await options.runHalf(on: replica) { engine, summary in try await engine.push(into: &summary) }
    }
}

/// `haven pull`: only receive.
struct PullCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "pull", abstract: Words("Receive changes only.", korean: "변경을 받기만 합니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var options: SyncOptions

    func run() async throws {
        try await options.runHalf(on: replica) { engine, summary in try await engine.pull(into: &summary) }
    }
}

/// `haven status`.
struct StatusCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "status",
            abstract: Words(
                "Show unsent and rejected changes, conflicts, the last sync and the link's sizes.",
                korean: "보내지 않은 변경과 거부된 변경, 충돌, 마지막 동기화, 연결이 허용한 크기를 보여 줍니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

    func run() throws {
        let status = try replica.open().status()
        if json { return try printJSON(status) }
        Self.lines(status).forEach { print($0) }
    }

    /// What `haven status` prints: sentences, each with what to do when there is something to do.
    static func lines(_ status: ReplicaStatus) -> [String] {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        let syncs = Words(
            "This replica (\(status.replica)) syncs with \(status.server)",
            korean: "이 복제본(\(status.replica))은 \(status.server) 서버와 동기화합니다")
        let token =
            status.account.map { account in
                Words(
                    " as \(account).",
                    korean: " (토큰: \(TerminalText.escaped(status.accountName ?? "?"))의 \(status.role?.rawValue ?? "?") 토큰).")
            }
            ?? Words(
                " with a token not checked yet (the next sync checks it).",
                korean: " (토큰은 아직 확인하지 않았습니다: 다음 동기화 때 확인합니다).")
        var lines = [
            syncs + token,
            status.encrypted
                ? Words("It is encrypted: opening it needs the passphrase.", korean: "암호화되어 있습니다: 열려면 암호문구가 필요합니다.")
                : Words(
                    "It is not encrypted: anyone holding the device can read it ('haven encrypt' turns encryption on).",
                    korean: "암호화되어 있지 않습니다: 기기를 손에 넣은 사람은 누구나 읽을 수 있습니다 "
                        + "('haven encrypt'로 암호화를 켭니다)."),
            Words(
                "It holds \(status.stories) \(status.stories == 1 ? "story" : "stories") and "
                    + "\(count(status.resources, "resource")).",
                korean: "이야기 \(status.stories)개와 지원 정보 \(status.resources)개가 있습니다."),
        ]
        lines.append(publishedSetLine(status))
        let unsent = status.unsentChanges
        lines.append(
            unsent == 0
                ? Words("Nothing is waiting to be sent.", korean: "보낼 변경이 없습니다.")
                : Words(
                    "\(count(unsent, "change")) \(unsent == 1 ? "is" : "are") waiting to be sent: run 'haven sync'.",
                    korean: "변경 \(unsent)개가 보내기를 기다리고 있습니다: 'haven sync'를 실행하세요."))
        let rejected = status.rejectedChanges
        if rejected > 0 {
            lines.append(
                Words(
                    "\(count(rejected, "change")) the server refused \(rejected == 1 ? "is" : "are") "
                        + "kept here, listed below: fix and re-send, or 'haven discard ID' to drop.",
                    korean: "서버가 거부한 변경 \(rejected)개를 여기 남겨 두었습니다 (아래 목록): 고쳐서 다시 보내거나, "
                        + "'haven discard ID'로 버리세요."))
        }
        for file in status.failingMedia {
            let name = TerminalText.escaped(file.names.first ?? String(file.id.prefix(12)))
            let reason = TerminalText.escaped(file.reason)
            lines.append(
                Words(
                    "Media file \(name) could not be sent (\(count(file.failures, "attempt"))): \(reason); the changes naming it wait. 'haven sync' tries again.",
                    korean: "미디어 파일 \(name)을 보내지 못했습니다 (\(file.failures)번 시도): \(reason). 이 파일을 가리키는 변경은 기다립니다. 'haven sync'로 다시 시도합니다."))
        }
        lines.append(
            status.conflicts == 0
                ? Words("No write of yours lost to another.", korean: "다른 쓰기에 밀려 사라진 내 쓰기가 없습니다.")
                : Words(
                    "\(count(status.conflicts, "conflict")): see 'haven conflicts'.",
                    korean: "충돌 \(status.conflicts)개: 'haven conflicts'를 보세요."))
        if let lastSync = status.lastSync {
            var line = Words("Last synced \(isoTime(lastSync))", korean: "마지막 동기화: \(isoTime(lastSync))")
            if let age = status.cursorAgeSeconds, let lastPull = status.lastPull {
                let ago = ago(age)
                line = line
                    + (lastPull == lastSync
                        ? Words(" (\(ago.english))", korean: " (\(ago.korean))")
                        : Words(
                            "; last up to date with the server \(ago.english)",
                            korean: ". 서버와 마지막으로 같았던 때: \(ago.korean)"))
            }
            lines.append(line + Words(".", korean: "."))
        } else {
            lines.append(Words("Never synced: run 'haven sync'.", korean: "아직 동기화한 적이 없습니다: 'haven sync'를 실행하세요."))
        }
        lines.append(
            Words(
                "The link last allowed \(count(status.batchSize, "change")) per push and "
                    + "\(count(status.pageSize, "record")) per page.",
                korean: "연결이 마지막으로 허용한 크기: 한 번에 변경 \(status.batchSize)개, 페이지마다 기록 "
                    + "\(status.pageSize)개."))
        return lines.map(\.text) + rejectedLines(status.rejected)
    }

    /// Whether the published content here is what the publisher signed (Replica+Verification.swift).
    static func publishedSetLine(_ status: ReplicaStatus) -> Words {
        let unverified = status.unverifiedRecords
        if status.verificationFailed || unverified > 0 {
            return Words(
                "Published content did NOT match the publisher's signature: \(unverified) record(s) are marked "
                    + "unverified and the rest is kept as last verified. Do not trust what is marked unverified; "
                    + "run 'haven sync' to try again, and tell the server's admin.",
                korean: "게시된 내용이 게시자의 서명과 맞지 않았습니다: 기록 \(unverified)개를 확인되지 않음으로 표시했고, "
                    + "나머지는 마지막으로 확인된 상태로 두었습니다. 확인되지 않음으로 표시된 내용은 믿지 마세요. "
                    + "'haven sync'로 다시 시도하고, 서버 관리자에게 알리세요.")
        }
        if let seq = status.verifiedSeq, let key = status.publisherKey {
            return Words(
                "Published content is verified: signed by the publisher key \(key) at position \(seq).",
                korean: "게시된 내용을 확인했습니다: 게시자 키 \(key)가 위치 \(seq)에서 서명했습니다.")
        }
        if let key = status.publisherKey {
            return Words(
                "Published content is not verified yet (publisher key \(key)): run 'haven sync'.",
                korean: "게시된 내용을 아직 확인하지 않았습니다 (게시자 키 \(key)): 'haven sync'를 실행하세요.")
        }
        return Words(
            "Published content is not signed by this server: nothing here is verified.",
            korean: "이 서버는 게시된 내용에 서명하지 않습니다: 여기 있는 것은 확인되지 않았습니다.")
    }

    /// "12 min ago", "just now".
    private static func ago(_ seconds: Int) -> Words {
        guard seconds >= 60 else { return Words("just now", korean: "방금") }
        let age = age(seconds)
        return Words("\(age.english) ago", korean: "\(age.korean) 전")
    }
}

/// `haven conflicts`: writes of this replica's author that lost, and changes the server refused.
struct ConflictsCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "conflicts",
            abstract: Words(
                "List writes that lost to concurrent ones, and rejected changes.",
                korean: "동시에 일어난 다른 쓰기에 밀린 쓰기와 거부된 변경을 보여 줍니다.").text,
            discussion: Words(
                "--json prints the conflicts only; 'haven status --json' has the rejected changes.",
                korean: "--json은 충돌만 출력합니다. 거부된 변경은 'haven status --json'에 있습니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

    func run() throws {
        let replica = try replica.open()
        let conflicts = try replica.conflicts()
        if json { return try printJSON(conflicts) }
        if conflicts.isEmpty { print(Words("no conflicts", korean: "충돌이 없습니다")) }
        for conflict in conflicts {
            let (author, time) = (conflict.winnerAuthor, isoTime(conflict.winner.physical))
            let what =
                conflict.reason == .deleted
                ? Words(
                    "was hidden by a delete by \(author) at \(time)",
                    korean: "— \(time)에 \(author)의 삭제로 가려졌습니다")
                : Words("lost to a write by \(author) at \(time)", korean: "— \(time)에 \(author)의 쓰기에 밀렸습니다")
            let field = "\(conflict.kind) \(conflict.recordID) \(conflict.field)"
            let value = display(conflict.value)
            print(Words("\(field): your value \(value) \(what.english)", korean: "\(field): 내 값 \(value) \(what.korean)"))
        }
        rejectedLines(try replica.rejectedChanges()).forEach { print($0) }
    }
}

/// `haven retry [ID]`: queue rejected changes again as they are.
struct RetryCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "retry",
            abstract: Words(
                "Send rejected changes again as they are (all, or one record's).",
                korean: "거부된 변경을 그대로 다시 보냅니다 (모두, 또는 한 기록의 것).").text,
            discussion: Words(
                """
                For a rejection fixed elsewhere, such as a token given a new role. To change what is sent, \
                edit the record instead: the edit re-sends the rejected change with the fix.
                """,
                korean: """
                다른 곳에서 해결된 거부에 씁니다 (예: 토큰에 새 역할이 주어졌을 때). 보낼 내용을 바꾸려면 \
                기록을 편집하세요: 편집하면 거부된 변경이 고친 내용으로 다시 보내집니다.
                """).text)
    }
    @OptionGroup var replica: ReplicaOptions
    @Argument(
        help: ArgumentHelp(
            Words(
                "A record id (or its first characters) or a change id; all rejected changes if omitted.",
                korean: "기록 id(또는 그 앞부분)나 변경 id. 주지 않으면 거부된 변경 모두.")))
    var id: String?

    func run() throws {
        let count = try replica.open().retryRejected(id)
        print(
            Words(
                "\(count) rejected change\(count == 1 ? "" : "s") queued again: run 'haven sync' to send",
                korean: "거부된 변경 \(count)개를 다시 보내도록 넣었습니다: 'haven sync'로 보내세요"))
    }
}

/// The "rejected" section of `status` and `conflicts`: each change, why, and what to do.
///
/// Why is the server's message, in English (the protocol's language), with its code; in Korean
/// it is quoted after what the code means, for the codes whose rule the client knows.
func rejectedLines(_ rejected: [RejectedChange]) -> [String] {
    guard !rejected.isEmpty else { return [] }
    let heading = Words(
        "rejected (kept; edit the record to fix and re-send it, or 'haven retry ID' to send it as it is):",
        korean: "거부된 변경 (남겨 두었습니다. 기록을 고치면 고친 것이 다시 보내지고, 그대로 다시 보내려면 "
            + "'haven retry ID'를 쓰세요):")
    return [heading.text]
        + rejected.map { change in
            let why = Words(change.reason, korean: change.code.koreanRefusal(quoting: change.reason))
            return "  \(change.kind) \(change.recordID) [\(change.fields.joined(separator: ", "))]: \(why)"
        }
}

/// A number of seconds as a person reads it: 45 s, 12 min, 3 h, 2 d (45초, 12분, 3시간, 2일).
func age(_ seconds: Int) -> Words {
    switch seconds {
    case ..<60: Words("\(max(0, seconds)) s", korean: "\(max(0, seconds))초")
    case ..<3600: Words("\(seconds / 60) min", korean: "\(seconds / 60)분")
    case ..<86_400: Words("\(seconds / 3600) h", korean: "\(seconds / 3600)시간")
    default: Words("\(seconds / 86_400) d", korean: "\(seconds / 86_400)일")
    }
}

/// `haven export FILE`.
struct ExportCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "export",
            abstract: Words(
                "Write every visible record as a canonical content pack.",
                korean: "보이는 기록을 모두 표준 형식의 콘텐츠 팩으로 씁니다.").text,
            discussion: Words(
                "Values the server refused are left out (the server's are written instead) unless --include-rejected.",
                korean: "--include-rejected를 주지 않으면 서버가 거부한 값은 빼고 서버의 값을 씁니다.").text)
    }
    @OptionGroup var replica: ReplicaOptions
    @Argument(help: ArgumentHelp(Words("The file to write, or - for standard output.", korean: "쓸 파일. -이면 표준 출력.")))
    var file: String
    @Flag(
        help: ArgumentHelp(
            Words(
                "Write an encrypted replica's records in plaintext all the same.",
                korean: "암호화된 복제본의 기록이라도 평문으로 씁니다.")))
    var plaintext = false
    @Flag(
        help: ArgumentHelp(
            Words(
                "Write the values of changes the server refused, too.",
                korean: "서버가 거부한 변경의 값도 씁니다.")))
    var includeRejected = false

    func run() throws {
        if Replica.hasKeyFile(at: replica.path) && !plaintext {
            throw ClientError(
                Words(
                    "the replica is encrypted, and an export is plaintext that anyone holding the device can read: nothing "
                        + "was written. Add --plaintext to write it anyway, then keep the file off this device or delete it",
                    korean: "복제본은 암호화되어 있지만, 내보낸 파일은 기기를 손에 넣은 누구나 읽을 수 있는 평문입니다: "
                        + "아무것도 쓰지 않았습니다. 그래도 쓰려면 --plaintext를 붙이고, 파일은 이 기기 밖에 두거나 지우세요"))
        }
        let pack = try replica.open().exportPack(includingRejected: includeRejected)
        let data = try pack.canonicalJSON()
        if file == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            do {
                try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                throw ClientError(FileProblem.writing(file, purpose: .pack))
            }
            print(
                Words(
                    "exported \(pack.records.count) records to \(file)",
                    korean: "기록 \(pack.records.count)개를 내보냈습니다: \(file)"))
        }
    }
}

/// A value as a person reads it on one line.
func display(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): "\"\(text.count > 60 ? text.prefix(57) + "..." : text)\""
    case .array(let items): items.map(display).joined(separator: ", ")
    case .null: Words("(empty)", korean: "(비어 있음)").text
    case .bool(let flag): flag ? Words("yes", korean: "예").text : Words("no", korean: "아니요").text
    case .int(let number): String(number)
    case .double(let number): String(number)
    case .object: "{…}"
    }
}
