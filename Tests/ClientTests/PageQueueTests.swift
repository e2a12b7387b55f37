@testable import HavenClient
import HavenCore
import Testing

/// The pages a streamed pull holds while the replica applies them: bounded by bytes, not count.
struct PageQueueTests {
    private static func page(_ seq: Int64) -> PullResponse {
        PullResponse(
            changes: [], removed: [], conflicts: [], cursor: SyncCursor(epoch: "e", seq: seq), more: true, serverTime: 0)
    }

    @Test func aPageThatWouldPassTheBoundWaitsUntilThePagesBeforeItAreTaken() async throws {
        // Given a queue of 100 bytes holding two pages of 40
        let queue = PageQueue<PullResponse>(capacity: 100)
        try await queue.put(Self.page(1), bytes: 40)
        try await queue.put(Self.page(2), bytes: 40)
        // When a third page of 40 is put
        let third = Task { try await queue.put(Self.page(3), bytes: 40) }
        for _ in 0..<20 { await Task.yield() }
        // Then it waits: the applier takes the first two alone, then it
        #expect(try await queue.take()?.map(\.cursor.seq) == [1, 2])
        try await third.value
        #expect(try await queue.take()?.map(\.cursor.seq) == [3])
    }

    @Test func aPageLargerThanTheBoundIsTakenAlone() async throws {
        // Given an empty queue of 100 bytes
        let queue = PageQueue<PullResponse>(capacity: 100)
        // When a page of 500 bytes comes, then another
        try await queue.put(Self.page(1), bytes: 500)
        let next = Task { try await queue.put(Self.page(2), bytes: 10) }
        for _ in 0..<20 { await Task.yield() }
        // Then the large page is let in, and the next waits for it to be taken
        #expect(try await queue.take()?.map(\.cursor.seq) == [1])
        try await next.value
        await queue.finish(throwing: nil)
        #expect(try await queue.take()?.map(\.cursor.seq) == [2])
        #expect(try await queue.take() == nil)
    }
}
