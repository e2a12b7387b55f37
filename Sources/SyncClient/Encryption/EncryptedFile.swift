import Foundation
import GRDBSQLite

/// One file of an encrypted replica (the database or its WAL) as SQLite sees it: plaintext pages
/// in, sealed pages out to the unix VFS's file underneath.
///
/// Our `sqlite3_file` is laid out in raw memory, as SQLite allocates it (`szOsFile`): the
/// `sqlite3_file` header (its methods), then a retained pointer to this object, then the unix
/// VFS's own file structure.
///
/// The database's page `n` is sealed with `"D" + n` as associated data (PageCipher.swift);
/// page 1 whole, header included, so the file does not start with "SQLite format 3".
/// Reads that are not whole pages (100 bytes at 0 when SQLite opens the file, say) open the
/// pages they cover; writes that are not whole pages read, change and seal them again.
final class EncryptedFile {
    enum Role { case database, wal }

    let vfs: EncryptedVFS
    let role: Role
    let inner: UnsafeMutablePointer<sqlite3_file>
    /// Scratch for one WAL frame (24-byte header, then the page); the database uses the page part.
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: WALLayout.frameSize, alignment: 16)
    var page: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: frame[WALLayout.frameHeaderSize...]) }
    /// The first 16 bytes of the last frame header written, to seal the page that follows it.
    var lastFrameHeader: (frame: Int, bytes: [UInt8])?
    /// The lock SQLite holds on the file (`SQLITE_LOCK_NONE` … `EXCLUSIVE`), kept by xLock/xUnlock.
    var lockLevel = SQLITE_LOCK_NONE

    init(vfs: EncryptedVFS, role: Role, inner: UnsafeMutablePointer<sqlite3_file>) {
        self.vfs = vfs
        self.role = role
        self.inner = inner
    }

    deinit {
        frame.initializeMemory(as: UInt8.self, repeating: 0)  // No plaintext left in freed memory.
        frame.deallocate()
    }

    // MARK: Layout in SQLite's memory

    static func underlyingFile(of file: UnsafeMutablePointer<sqlite3_file>) -> UnsafeMutablePointer<sqlite3_file> {
        (UnsafeMutableRawPointer(file) + EncryptedVFS.fileHeaderSize).assumingMemoryBound(to: sqlite3_file.self)
    }

    static func attach(_ encrypted: EncryptedFile, to file: UnsafeMutablePointer<sqlite3_file>) {
        (UnsafeMutableRawPointer(file) + 8).storeBytes(of: Unmanaged.passRetained(encrypted).toOpaque(), as: UnsafeMutableRawPointer.self)
        file.pointee.pMethods = UnsafePointer(methods)
    }

    static func from(_ file: UnsafeMutablePointer<sqlite3_file>?) -> EncryptedFile {
        let context = (UnsafeMutableRawPointer(file!) + 8).load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<EncryptedFile>.fromOpaque(context).takeUnretainedValue()
    }

    // MARK: The file underneath

    func readRaw(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        inner.pointee.pMethods.pointee.xRead(inner, buffer.baseAddress, Int32(buffer.count), offset)
    }

    func writeRaw(_ buffer: UnsafeRawBufferPointer, at offset: Int64) -> Int32 {
        inner.pointee.pMethods.pointee.xWrite(inner, buffer.baseAddress, Int32(buffer.count), offset)
    }

    // MARK: Reads and writes

    func read(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        switch role {
        case .database: readDatabase(buffer, at: offset)
        case .wal: readWAL(buffer, at: offset)
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: Int64) -> Int32 {
        switch role {
        case .database: writeDatabase(buffer, at: offset)
        case .wal: writeWAL(buffer, at: offset)
        }
    }

    /// Reads the pages covering `buffer`'s range, opened, and copies the range out.
    private func readDatabase(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        var short = false
        var done = 0
        while done < buffer.count {
            let position = Int(offset) + done
            let number = position / PageCipher.pageSize + 1
            let within = position % PageCipher.pageSize
            let count = min(PageCipher.pageSize - within, buffer.count - done)
            let result = loadDatabasePage(number)
            if result == SQLiteCode.shortRead {
                short = true
            } else if result != SQLITE_OK {
                return result
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: page[within..<(within + count)]))
            done += count
        }
        return short ? SQLiteCode.shortRead : SQLITE_OK
    }

    /// Fills ``page`` with database page `number`, opened; zeros and a short read past the end.
    ///
    /// Page 1 is also read before SQLite takes any lock, when a connection opens (100 bytes, for
    /// the page size and reserve), so it can meet a checkpoint writing it: a read that fails is
    /// tried again. If it still fails with no lock held (page 1 torn by a power cut during a
    /// checkpoint, whose WAL still holds it whole), SQLite gets the header every replica has; it
    /// reads page 1 again under its lock, through the WAL, and that read is checked.
    private func loadDatabasePage(_ number: Int) -> Int32 {
        for attempt in 1...(number == 1 ? 3 : 1) {
            let result = readRaw(page, at: Int64(number - 1) * Int64(PageCipher.pageSize))
            if result == SQLiteCode.shortRead && page.allSatisfy({ $0 == 0 }) { return result }
            guard result == SQLITE_OK || result == SQLiteCode.shortRead else { return result }
            if vfs.cipher.open(page, associatedData: Self.databaseData(page: number)) { return SQLITE_OK }
            if number == 1 && page.starts(with: Self.plainHeader) { break }
            if attempt < 3 { sched_yield() }
        }
        if number == 1 && lockLevel == SQLITE_LOCK_NONE && !page.starts(with: Self.plainHeader) {
            page.copyBytes(from: Self.replicaHeader)
            return SQLITE_OK
        }
        vfs.report(number == 1 && page.starts(with: Self.plainHeader) ? .notEncrypted : .page(number))
        return SQLiteCode.dataError
    }

    /// Page 1 as every encrypted replica's header reads before SQLite locks the file: the format,
    /// pages of 4096 bytes with 28 reserved, file format 2, the fixed payload fractions; zeros for
    /// what changes (SQLite reads those under its lock).
    static let replicaHeader: [UInt8] = {
        var header = [UInt8](repeating: 0, count: PageCipher.pageSize)
        header.replaceSubrange(0..<16, with: plainHeader)
        header[16] = UInt8(PageCipher.pageSize >> 8)
        header[17] = UInt8(PageCipher.pageSize & 0xff)
        header[18] = 2
        header[19] = 2
        header[20] = UInt8(PageCipher.reservedBytes)
        header[21] = 64
        header[22] = 32
        header[23] = 32
        return header
    }()

    /// Writes whole pages sealed; a part of a page is merged into the page read back first.
    private func writeDatabase(_ buffer: UnsafeRawBufferPointer, at offset: Int64) -> Int32 {
        var done = 0
        while done < buffer.count {
            let position = Int(offset) + done
            let number = position / PageCipher.pageSize + 1
            let within = position % PageCipher.pageSize
            let count = min(PageCipher.pageSize - within, buffer.count - done)
            if count < PageCipher.pageSize {
                let result = loadDatabasePage(number)
                guard result == SQLITE_OK || result == SQLiteCode.shortRead else { return result }
            }
            UnsafeMutableRawBufferPointer(rebasing: page[within..<(within + count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[done..<(done + count)]))
            if number == 1, let problem = Self.layoutProblem(pageOne: UnsafeRawBufferPointer(page)) {
                vfs.report(.layout(problem))
                return SQLiteCode.writeError
            }
            guard (try? vfs.cipher.seal(page, associatedData: Self.databaseData(page: number))) != nil else {
                return SQLiteCode.writeError
            }
            let result = writeRaw(UnsafeRawBufferPointer(page), at: Int64(number - 1) * Int64(PageCipher.pageSize))
            guard result == SQLITE_OK else { return result }
            done += count
        }
        return SQLITE_OK
    }

    static let plainHeader = Array("SQLite format 3\0".utf8)

    static func databaseData(page number: Int) -> [UInt8] { [UInt8(ascii: "D")] + bigEndian(UInt32(number)) }

    /// Why page 1's header would let SQLite write over the nonce and tag, if it would: the page
    /// size must be 4096 (bytes 16–17) and the reserved bytes per page 28 (byte 20), set by
    /// `SQLITE_FCNTL_RESERVE_BYTES` before the first table (Replica+Encryption.swift).
    static func layoutProblem(pageOne: UnsafeRawBufferPointer) -> String? {
        guard pageOne.starts(with: plainHeader) else { return nil }  // Not a header yet.
        let pageSize = Int(pageOne[16]) << 8 | Int(pageOne[17])
        guard pageSize == PageCipher.pageSize, Int(pageOne[20]) == PageCipher.reservedBytes else {
            return "SQLite asked for pages of \(pageSize) bytes with \(pageOne[20]) reserved, "
                + "not \(PageCipher.pageSize) with \(PageCipher.reservedBytes)"
        }
        return nil
    }
}

/// Extended result codes the VFS answers with (macros Swift does not import).
enum SQLiteCode {
    static let readError: Int32 = SQLITE_IOERR | (1 << 8)
    static let shortRead: Int32 = SQLITE_IOERR | (2 << 8)
    static let writeError: Int32 = SQLITE_IOERR | (3 << 8)
    /// `SQLITE_IOERR_DATA`: what SQLite's own checksum VFS answers for a page that fails its check.
    static let dataError: Int32 = SQLITE_IOERR | (32 << 8)
    static let deleteNoEntry: Int32 = SQLITE_IOERR | (23 << 8)
}
