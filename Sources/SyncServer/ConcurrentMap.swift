import Foundation
import Synchronization

extension Array where Element: Sendable {
    /// `transform` of every element, in order, computed in one slice per core at once; a short
    /// array is mapped on the calling thread, where starting threads would cost more.
    ///
    /// For work inside a transaction that holds a single writer, such as a push's encodings:
    /// the other cores are otherwise idle while everyone waits for that writer.
    ///
    /// - Throws: the first error a slice met.
    func concurrentMap<T: Sendable>(minimumCount: Int = 64, _ transform: @Sendable (Element) throws -> T) throws -> [T] {
        let slices = Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / Swift.max(minimumCount, 1))
        guard slices > 1 else { return try map(transform) }
        let results = Mutex<[[T]?]>(Array<[T]?>(repeating: nil, count: slices))
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (count * slice / slices)..<(count * (slice + 1) / slices)
            do {
                let mapped = try self[range].map(transform)
                results.withLock { $0[slice] = mapped }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0.flatMap { $0! } }
    }
}
