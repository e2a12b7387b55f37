/// How stored chunks make a range of bytes, for every backend.
enum MediaChunks {
    /// The bytes from `start` up to `end` (exclusive) of `chunks`, each given with the offset it
    /// starts at, in order; a gap ends the bytes early.
    static func slice(_ chunks: [(start: Int64, bytes: [UInt8])], from start: Int64, to end: Int64) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(Int(max(0, end - start)))
        var position = start
        for chunk in chunks {
            let chunkEnd = chunk.start + Int64(chunk.bytes.count)
            guard chunk.start <= position, chunkEnd > position else {
                if chunk.start > position { break }
                continue
            }
            let from = Int(position - chunk.start)
            let to = Int(min(end, chunkEnd) - chunk.start)
            result += chunk.bytes[from..<to]
            position = chunk.start + Int64(to)
            if position >= end { break }
        }
        return result
    }
}
