import HavenCore

/// The pages a streamed pull has received and not yet applied (<doc:SyncAndResume>, rule 8).
///
/// The reader puts each page as its line arrives; the applier takes every page there is at
/// once, so the pages that arrived while one commit was under way go into the next one
/// together: one transaction per page on a slow link, a few large ones on a fast link.
/// At most `capacity` pages wait, which keeps memory flat however large the download.
actor PageQueue {
    private let capacity: Int
    private var pages: [PullResponse] = []
    /// How the reader ended: nil while it reads.
    private var end: Result<Void, any Error>?
    /// Set when the applier stops: the reader's next put throws.
    private var closed = false
    private var taker: CheckedContinuation<Void, Never>?
    private var putter: CheckedContinuation<Void, Never>?

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds a page, waiting while `capacity` pages wait already.
    ///
    /// - Throws: `CancellationError` once the applier has stopped.
    func put(_ page: PullResponse) async throws {
        while pages.count >= capacity, !closed {
            await withCheckedContinuation { putter = $0 }
        }
        if closed { throw CancellationError() }
        pages.append(page)
        wake(&taker)
    }

    /// The reader is done: cleanly (nil) or with `error`, which ``take()`` throws once every
    /// page received before it has been taken.
    func finish(throwing error: (any Error)?) {
        end = error.map { .failure($0) } ?? .success(())
        wake(&taker)
    }

    /// The applier stops taking pages.
    func close() {
        closed = true
        wake(&putter)
    }

    /// Every waiting page, oldest first, waiting for one if there is none; nil when the reader
    /// finished cleanly and everything was taken.
    func take() async throws -> [PullResponse]? {
        while pages.isEmpty, end == nil {
            await withCheckedContinuation { taker = $0 }
        }
        if !pages.isEmpty {
            defer { pages = [] }
            wake(&putter)
            return pages
        }
        try end?.get()
        return nil
    }

    private func wake(_ waiter: inout CheckedContinuation<Void, Never>?) {
        waiter?.resume()
        waiter = nil
    }
}
