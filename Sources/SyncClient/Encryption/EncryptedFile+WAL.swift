import Foundation
import GRDBSQLite

/// Where things are in a WAL file: a 32-byte header, then frames of a 24-byte header and a page.
enum WALLayout {
    static let headerSize = 32
    static let frameHeaderSize = 24
    static let frameSize = frameHeaderSize + PageCipher.pageSize

    static func frameStart(_ frame: Int) -> Int64 { Int64(headerSize + (frame - 1) * frameSize) }
}

/// The WAL of an encrypted replica.
///
/// What SQLite does with it (wal.c, 3.40), and so what this handles:
/// - the 32-byte header is written and read whole at offset 0: kept plain (magic, version, page
///   size, checkpoint sequence, salts, and a checksum of those: nothing of the content);
/// - a frame is written as its 24-byte header, then its page, two writes; a page already in
///   the WAL may be written again alone, and after that its header alone (new checksums);
/// - once a transaction has written a page again, the frames it adds have zero salts and
///   checksums until it commits, when SQLite reads each whole frame back to compute them and
///   writes its header alone (`walRewriteChecksums`): a transaction bigger than the page cache
///   does that;
/// - recovery reads whole frames (header and page) and checks each one's salts and running
///   checksum, stopping at the first that fails: that is how a torn tail is dropped;
/// - readers and checkpoints read pages alone.
///
/// A frame header's page number, commit size and salts stay plain; its two checksum words,
/// computed by SQLite over the plaintext, are XORed with a pad (PageCipher.checksumPad). The page
/// is sealed with `"W" + frame index + those 16 plain header bytes` as associated data; when the
/// zero salts of a pending frame are filled in, its page is sealed again under the new header.
///
/// A frame that fails authentication in a whole-frame read (recovery, or the checksum rewrite)
/// ends the log there, as a frame whose checksum fails ends a plaintext WAL: SQLite is shown a
/// frame that cannot match (its salts flipped) and keeps the transactions before it. That is
/// what a crash leaves: a tail torn between a frame's header and its page, or, after a power
/// cut, a commit frame on disk while an earlier frame's page never reached it (writes before
/// the commit's sync land in any order). A transaction dropped this way was never reported
/// committed; whoever holds the device could cut the file there anyway. Any other read of a
/// frame that fails, a page a connection asks for, is damage and named.
extension EncryptedFile {
    func readWAL(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        let end = Int(offset) + buffer.count
        if end <= WALLayout.headerSize { return readRaw(buffer, at: offset) }
        guard offset >= WALLayout.headerSize else { return SQLiteCode.readError }
        let first = frameIndex(at: offset)
        let wholeFrame = offset == WALLayout.frameStart(first) && buffer.count == WALLayout.frameSize
        var short = false
        var done = 0
        while done < buffer.count {
            let position = Int(offset) + done
            let index = frameIndex(at: Int64(position))
            let within = position - Int(WALLayout.frameStart(index))
            let count = min(WALLayout.frameSize - within, buffer.count - done)
            let result = loadFrame(index, lenient: wholeFrame)
            if result == SQLiteCode.shortRead {
                short = true
            } else if result != SQLITE_OK {
                return result
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: frame[within..<(within + count)]))
            done += count
        }
        return short ? SQLiteCode.shortRead : SQLITE_OK
    }

    func writeWAL(_ buffer: UnsafeRawBufferPointer, at offset: Int64) -> Int32 {
        if Int(offset) + buffer.count <= WALLayout.headerSize { return writeRaw(buffer, at: offset) }
        let index = frameIndex(at: offset)
        let start = WALLayout.frameStart(index)
        if offset == start && buffer.count == WALLayout.frameHeaderSize {
            var header = Array(buffer)
            let resealed = resealIfSaltsFilled(index, header: header[..<16])
            guard resealed == SQLITE_OK else { return resealed }
            maskChecksum(&header, frame: index)
            lastFrameHeader = (index, Array(header[..<16]))
            return header.withUnsafeBytes { writeRaw($0, at: offset) }
        }
        guard offset == start + Int64(WALLayout.frameHeaderSize) && buffer.count == PageCipher.pageSize else {
            vfs.report(.layout("a write of \(buffer.count) bytes inside a WAL frame"))
            return SQLiteCode.writeError
        }
        let header: [UInt8]
        if let last = lastFrameHeader, last.frame == index {
            header = last.bytes
        } else {
            let headerBytes = UnsafeMutableRawBufferPointer(rebasing: frame[..<WALLayout.frameHeaderSize])
            guard readRaw(headerBytes, at: start) == SQLITE_OK else { return SQLiteCode.writeError }
            header = Array(headerBytes[..<16])
        }
        // SQLite's checksum covered the whole page, reserved bytes included; reads give those
        // back as zeros, so anything else would make recovery drop committed frames.
        guard buffer[PageCipher.usableSize...].allSatisfy({ $0 == 0 }) else {
            vfs.report(.layout("SQLite wrote into a WAL page's reserved bytes"))
            return SQLiteCode.writeError
        }
        page.copyMemory(from: buffer)
        guard (try? vfs.cipher.seal(page, associatedData: Self.walData(frame: index, header: header))) != nil else {
            return SQLiteCode.writeError
        }
        return writeRaw(UnsafeRawBufferPointer(page), at: offset)
    }

    private func frameIndex(at offset: Int64) -> Int {
        (Int(offset) - WALLayout.headerSize) / WALLayout.frameSize + 1
    }

    static func walData(frame: Int, header: some Collection<UInt8>) -> [UInt8] {
        [UInt8(ascii: "W")] + bigEndian(UInt32(truncatingIfNeeded: frame)) + header.prefix(16)
    }

    /// XORs the frame header's checksum words (bytes 16–23) with the pad of its salts and index.
    private func maskChecksum(_ header: inout [UInt8], frame index: Int) {
        let pad = vfs.cipher.checksumPad(salts: header[8..<16], frame: index)
        for i in 0..<8 { header[16 + i] ^= pad[i] }
    }

    /// Fills ``frame`` with frame `index`: its header unmasked, its page opened.
    private func loadFrame(_ index: Int, lenient: Bool) -> Int32 {
        let result = readRaw(frame, at: WALLayout.frameStart(index))
        if result == SQLiteCode.shortRead && lenient { return result }  // Recovery stops there.
        guard result == SQLITE_OK else { return result == SQLiteCode.shortRead ? damaged(index) : result }
        let salts = Array(frame[8..<16])
        // A frame left from an earlier generation of the WAL: SQLite ignores it for its salts.
        // A pending frame (zero salts) is opened: SQLite reads it to compute its checksum.
        if lenient && salts != walSalts() && !Self.isPending(salts) { return SQLITE_OK }
        var header = Array(frame[..<WALLayout.frameHeaderSize])
        maskChecksum(&header, frame: index)
        UnsafeMutableRawBufferPointer(rebasing: frame[..<WALLayout.frameHeaderSize]).copyBytes(from: header)
        if vfs.cipher.open(page, associatedData: Self.walData(frame: index, header: header)) { return SQLITE_OK }
        if lenient {
            frame[8] ^= 0xff  // The end of the log: make SQLite's salt check drop it.
            return SQLITE_OK
        }
        return damaged(index)
    }

    /// Whether a frame header's salts are the zeros of a frame whose transaction has not yet
    /// computed its checksums (a real WAL's salts are random, and never both zero).
    static func isPending(_ salts: some Collection<UInt8>) -> Bool { salts.allSatisfy { $0 == 0 } }

    /// Seals frame `index`'s page again under `header` when that header fills in the zero salts
    /// the page was sealed with: SQLite's checksum rewrite at commit changes only the header, and
    /// the page must open under the header it ends with. Anything else is left alone: a new
    /// frame's page follows its header.
    private func resealIfSaltsFilled(_ index: Int, header: ArraySlice<UInt8>) -> Int32 {
        guard !Self.isPending(header.dropFirst(8)) else { return SQLITE_OK }
        var onDisk = [UInt8](repeating: 0, count: 16)
        let start = WALLayout.frameStart(index)
        guard onDisk.withUnsafeMutableBytes({ readRaw($0, at: start) }) == SQLITE_OK,
            Self.isPending(onDisk[8..<16]), onDisk[..<8] == header.prefix(8)
        else { return SQLITE_OK }
        let pageOffset = start + Int64(WALLayout.frameHeaderSize)
        guard readRaw(page, at: pageOffset) == SQLITE_OK,
            vfs.cipher.open(page, associatedData: Self.walData(frame: index, header: onDisk))
        else { return SQLITE_OK }  // Not a page sealed as pending: a new frame's page will follow.
        guard (try? vfs.cipher.seal(page, associatedData: Self.walData(frame: index, header: header))) != nil else {
            return SQLiteCode.writeError
        }
        return writeRaw(UnsafeRawBufferPointer(page), at: pageOffset)
    }

    private func damaged(_ index: Int) -> Int32 {
        let pageNumber = frame[0..<4].reduce(0) { $0 << 8 | Int($1) }
        vfs.report(.walFrame(frame: index, page: pageNumber))
        return SQLiteCode.dataError
    }

    /// The salts in the WAL header, which a current frame repeats.
    private func walSalts() -> [UInt8]? {
        var header = [UInt8](repeating: 0, count: WALLayout.headerSize)
        let result = header.withUnsafeMutableBytes { readRaw($0, at: 0) }
        return result == SQLITE_OK ? Array(header[16..<24]) : nil
    }
}
