import Foundation
import Synchronization

extension Array where Element: Sendable {
    /// `transform` of every element, in order, computed in one slice per core at once (see
    /// ``concurrentSlices(minimumCount:_:)``).
    func concurrentMap<T: Sendable, E: Error>(minimumCount: Int = 64, _ transform: @Sendable (Element) throws(E) -> T)
        throws(E) -> [T]
    {
        try concurrentSlices(minimumCount: minimumCount) { (slice) throws(E) in try slice.map(transform) }.flatMap { $0 }
    }

    /// `body` of consecutive slices that make up the array, one per core, run at once; their
    /// results in order. An array under twice `minimumCount` is one slice, on the calling thread,
    /// where starting threads would cost more than they save.
    ///
    /// For work inside a transaction that holds a single writer, such as a push's encodings:
    /// the other cores are otherwise idle while everyone waits for that writer.
    ///
    /// - Throws: the first error a slice met.
    func concurrentSlices<T: Sendable, E: Error>(
        minimumCount: Int = 64, _ body: @Sendable (ArraySlice<Element>) throws(E) -> T
    ) throws(E) -> [T] {
        let slices = Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / Swift.max(minimumCount, 1))
        guard slices > 1 else { return [try body(self[...])] }
        let results = Mutex<[T?]>(Array<T?>(repeating: nil, count: slices))
        let failure = Mutex<E?>(nil)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (count * slice / slices)..<(count * (slice + 1) / slices)
            do throws(E) {
                let result = try body(self[range])
                results.withLock { $0[slice] = result }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0.map { $0! } }
    }
}
