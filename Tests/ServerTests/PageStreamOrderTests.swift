import Synchronization
import Testing

@testable import HavenServer

/// The order of a stream's pages (SyncController+Stream.swift, rule 4): each is read while the
/// one before is sent, and sent only if the caller still may read once the one before has gone.
struct PageStreamOrderTests {
    private struct Revoked: Error {}

    @Test func aPageReadAheadIsNotSentWhenTheTokenWasRevokedWhileThePageBeforeWent() async throws {
        // Given five pages, and a token revoked while the second is being sent (after letting the
        // read of the third, under way meanwhile, run first)
        let revoked = Mutex(false)
        let sent = Mutex<[Int]>([])
        let read = Mutex<[Int]>([])
        let ended = try await SyncController.sendPages(
            from: 1,
            prepare: { page in
                (page, page < 5 ? { @Sendable in read.withLock { $0.append(page + 1) }; return page + 1 } : nil)
            },
            confirm: { if revoked.withLock({ $0 }) { throw Revoked() } },
            send: { page in
                if page == 2 {
                    for _ in 0..<100 { await Task.yield() }
                    revoked.withLock { $0 = true }
                }
                sent.withLock { $0.append(page) }
            })

        // Then the stream ended after the second page, for that reason: the third was read, not sent
        #expect(sent.withLock { $0 } == [1, 2])
        #expect(read.withLock { $0 } == [2, 3])
        #expect(ended is Revoked)
    }

    @Test func everyPageGoesInOrderAndAFailedReadEndsTheStream() async throws {
        struct Unreadable: Error {}
        // Given pages 1 to 4, when nothing is revoked
        let sent = Mutex<[Int]>([])
        let whole = try await SyncController.sendPages(
            from: 1, prepare: { page in (page, page < 4 ? { @Sendable in page + 1 } : nil) }, confirm: {},
            send: { page in sent.withLock { $0.append(page) } })
        // Then each went once, in order, to the last
        #expect(sent.withLock { $0 } == [1, 2, 3, 4])
        #expect(whole == nil)

        // When the third page cannot be read
        sent.withLock { $0 = [] }
        let cut = try await SyncController.sendPages(
            from: 1,
            prepare: { page in
                (page, page < 4 ? { @Sendable in if page == 2 { throw Unreadable() }; return page + 1 } : nil)
            },
            confirm: {}, send: { page in sent.withLock { $0.append(page) } })
        // Then the pages before it went, and the stream says why it ended
        #expect(sent.withLock { $0 } == [1, 2])
        #expect(cut is Unreadable)
    }
}
