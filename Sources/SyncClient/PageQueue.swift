import HavenCore

/// The pages a streamed pull has received and not yet applied (<doc:SyncAndResume>, rule 8).
///
/// The reader puts each page as its line arrives; the applier takes every page there is at
/// once, so the pages that arrived while one commit was under way go into the next one
/// together: one transaction per page on a slow link, a few large ones on a fast link.
///
/// Pages of at most `capacity` bytes in all wait (a single page always may), which keeps memory
/// flat however large the download. The bound is generous because what the reader has not taken
/// from the socket is lost when the connection is reset: on a fast link whose resets came while
/// 16 pages waited, the kernel's buffer held an eighth of the download, all sent again.
actor PageQueue<Page: Sendable> {
    /// The JSON bytes of the pages that may wait.
    private let capacity: Int
    private var pages: [Page] = []
    private var bytes = 0
    /// How the reader ended: nil while it reads.
    private var end: Result<Void, any Error>?
    /// Set when the applier stops: the reader's next put throws.
    private var closed = false
    private var taker: CheckedContinuation<Void, Never>?
    private var putter: CheckedContinuation<Void, Never>?

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds a page of `bytes` JSON bytes, waiting while it would take the waiting pages past
    /// `capacity`.
    ///
    /// - Throws: `CancellationError` once the applier has stopped.
    func put(_ page: Page, bytes: Int) async throws {
        while !pages.isEmpty, self.bytes + bytes > capacity, !closed {
            await withCheckedContinuation { putter = $0 }
        }
        if closed { throw CancellationError() }
        pages.append(page)
        self.bytes += bytes
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
    func take() async throws -> [Page]? {
        while pages.isEmpty, end == nil {
            await withCheckedContinuation { taker = $0 }
        }
        if !pages.isEmpty {
            defer { (pages, bytes) = ([], 0) }
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
