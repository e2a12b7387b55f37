import Foundation
import HavenCore
import Synchronization

/// Media transfers (issue 17), with the engine's retries and backoff.
///
/// Rule 1. Before a batch of changes is pushed, every file its changes name that this replica
/// added and the server lacks is uploaded. A file that fails (its retries spent, or refused) is
/// recorded with its reason (`Replica.recordMediaFailure(_:reason:)`, shown by `haven status`)
/// and the batch is sent only up to the first change that names it: nobody receives a reference
/// to a missing file, and later changes keep their order.
///
/// Rule 2. An upload asks the server where it stands and sends from there, piece by piece, after
/// any drop or a killed `haven`: the server keeps every byte it received.
///
/// Rule 3. A download asks for ranges from the bytes already held, so a cut re-sends at most
/// the range under way; the whole file is checked against its hash before it is kept.
extension SyncEngine {
    /// Bytes per upload request and per download range: a cut re-sends at most this, and on a
    /// 32 KiB/s link each takes about four seconds, so a round trip costs little beside it.
    static let mediaPieceBytes = 128 << 10

    /// Uploads the files `changes` name that the server lacks, and returns the part of the batch
    /// that may be sent (rule 1).
    ///
    /// - Parameter failed: files that failed earlier in this push, not tried again; those that
    ///   fail now are added.
    func uploadMedia(for changes: Replica.PendingBatch, failed: inout Set<String>, into summary: inout Summary)
        async throws -> Replica.PendingBatch
    {
        // A file that failed to go up is still not on the server: none held, none to look for.
        guard try replica.holdsMediaNotOnServer() else { return changes }
        let named = try (0..<changes.count).map { try MediaReference.blobIDs(writtenBy: changes.change(at: $0).record) ?? [] }
        let waiting = try replica.mediaAwaitingUpload(among: named.joined())
        for file in waiting where !failed.contains(file.id) {
            do {
                try await upload(file, into: &summary)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try replica.recordMediaFailure(file.id, reason: describeFailure(error, server: api.server).text)
                summary.mediaFailed += 1
                failed.insert(file.id)
            }
        }
        guard let cut = named.firstIndex(where: { !failed.isDisjoint(with: $0) }) else { return changes }
        return Replica.PendingBatch(
            ids: Array(changes.ids.prefix(cut)), bodies: Array(changes.bodies.prefix(cut)), cutByBytes: false)
    }

    /// Uploads one file from where the server stands (rule 2).
    func upload(_ file: Replica.LocalMedia, into summary: inout Summary) async throws {
        var retry = RetryState(policy: configuration.retry)
        let step = Words("uploading media file \(file.id.prefix(12))", korean: "미디어 파일 \(file.id.prefix(12)) 올리기")
        let meter = MediaMeter(name: String(file.id.prefix(12)), total: file.size, start: clock.now())
        // A 409 to a piece means the server holds another offset: ask for it again, a few times
        // in a row at most, so that a server answering nothing else cannot keep this going.
        var mismatches = 0
        while true {
            var appending = false
            do {
                // Only a piece taken counts as progress: asking where the upload stands always works.
                var (state, _) = try await exchange(&summary) { try await api.openUpload(file.id, size: file.size) }
                while !state.complete {
                    let offset = state.offset
                    let end = min(file.size, offset + Int64(Self.mediaPieceBytes))
                    let bytes = try replica.mediaBytes(file.id, from: offset, to: end)
                    appending = true
                    (state, _) = try await exchange(&summary) { try await api.appendUpload(file.id, at: offset, bytes) }
                    appending = false
                    // A server that takes a piece without moving on would keep this going forever.
                    guard state.complete || state.offset > offset else { throw Self.noProgress(file.id) }
                    mismatches = 0
                    summary.mediaBytesSent += bytes.count
                    retry.succeeded()
                    report(summary, media: meter.at(state.offset, now: clock.now(), uploading: true))
                }
                try replica.markMediaOnServer(file.id)
                summary.mediaUploaded += 1
                return
            } catch let error as ServerError where appending && error.detail.code == .offsetMismatch && mismatches < 3 {
                mismatches += 1
            } catch {
                try await recover(from: error, step: step, retry: &retry, summary: &summary)
            }
        }
    }

    /// Downloads one file a record names, from the bytes already held (rule 3): streamed, each
    /// piece kept as it arrives; page by page over a transport that cannot stream.
    public func download(_ reference: MediaReference, into summary: inout Summary) async throws {
        var retry = RetryState(policy: configuration.retry)
        let step = Words("downloading media file \(reference.name)", korean: "미디어 파일 \(reference.name) 받기")
        let meter = MediaMeter(name: reference.name, total: reference.size, start: clock.now())
        let sink = MediaSink(replica: replica, reference: reference, held: try replica.localMedia(reference.id)?.received ?? 0)
        var streams = true
        while sink.held < reference.size {
            let offset = sink.held
            let before = sink.received
            do {
                if streams {
                    let progress = self.progress
                    let started = meter
                    let clock = self.clock
                    _ = try await exchange(&summary) {
                        try await api.downloadStream(reference.id, from: offset, to: reference.size) { bytes in
                            let held = try sink.take(bytes)
                            progress?(SyncProgress(summary: Summary(), media: started.at(held, now: clock.now(), uploading: false)))
                        }
                    }
                    try sink.flush()
                } else {
                    let end = min(reference.size, offset + Int64(Self.mediaPieceBytes))
                    let (bytes, _) = try await exchange(&summary) { try await api.download(reference.id, from: offset, to: end) }
                    _ = try sink.take(bytes)
                    try sink.flush()
                    report(summary, media: meter.at(sink.held, now: clock.now(), uploading: false))
                }
                retry.succeeded()
            } catch is StreamingUnsupported {
                streams = false
            } catch {
                try sink.flush()  // What came before the cut is kept.
                summary.mediaBytesReceived += sink.received - before
                if sink.held > offset { retry.succeeded() }
                try await recover(from: error, step: step, retry: &retry, summary: &summary)
                continue
            }
            summary.mediaBytesReceived += sink.received - before
            // An answer without a byte of the file would keep this going forever.
            guard sink.held > offset else { throw Self.noProgress(reference.id) }
        }
        summary.mediaDownloaded += 1
    }

    /// A transfer that an answer did not move on.
    static func noProgress(_ id: String) -> ClientError {
        ClientError(
            Words(
                "media file \(id.prefix(12)): the server answered without taking or sending a byte of it; try again later",
                korean: "미디어 파일 \(id.prefix(12)): 서버가 한 바이트도 주고받지 않고 답했습니다: 나중에 다시 해 보세요"))
    }

    /// Downloads the files records name that are not here, each at most `maxSize` bytes (nil: any size).
    public func downloadMedia(upTo maxSize: Int64?, into summary: inout Summary) async throws {
        for reference in try replica.mediaToDownload() where maxSize.map({ reference.size <= $0 }) ?? true {
            try await download(reference, into: &summary)
        }
    }
}

/// The pace of one transfer, for the progress line.
struct MediaMeter: Sendable {
    var name: String
    var total: Int64
    var start: Double

    func at(_ done: Int64, now: Double, uploading: Bool) -> SyncProgress.MediaTransfer {
        let seconds = now - start
        return SyncProgress.MediaTransfer(
            name: name, uploading: uploading, bytes: done, total: total,
            bytesPerSecond: seconds > 0 ? Double(done) / seconds : nil)
    }
}

/// Where a download's pieces go: gathered to whole chunks, then kept in the replica.
final class MediaSink: Sendable {
    private struct State {
        var held: Int64
        var pending = Data()
        var received = 0
    }
    private let replica: Replica
    private let reference: MediaReference
    private let state: Mutex<State>

    init(replica: Replica, reference: MediaReference, held: Int64) {
        self.replica = replica
        self.reference = reference
        self.state = Mutex(State(held: held))
    }

    /// The bytes kept in the replica.
    var held: Int64 { state.withLock { $0.held } }
    /// Every byte taken so far.
    var received: Int { state.withLock { $0.received } }

    /// Takes a piece; keeps what has gathered once it makes a chunk. Returns the bytes held and gathered.
    func take(_ bytes: Data) throws -> Int64 {
        let (full, position) = state.withLock { state -> (Bool, Int64) in
            state.pending.append(bytes)
            state.received += bytes.count
            return (state.pending.count >= Replica.mediaChunkBytes, state.held + Int64(state.pending.count))
        }
        if full { try flush() }
        return position
    }

    /// Keeps what has gathered.
    func flush() throws {
        try state.withLock { state in
            guard !state.pending.isEmpty else { return }
            state.held = try replica.appendDownloaded(reference.id, size: reference.size, at: state.held, state.pending)
            state.pending = Data()
        }
    }
}
