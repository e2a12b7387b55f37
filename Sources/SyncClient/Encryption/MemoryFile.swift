import GRDBSQLite

/// A file SQLite opens through the encrypted VFS that is neither the database nor its WAL
/// (temporary databases, statement and sub-journals, sorter spill files, super-journals, the
/// rollback journal), held in memory and freed, zeroed, on close: it never reaches the disk.
///
/// Such files live as long as one statement or transaction of one connection; none is opened
/// again by name, so memory loses nothing a crash would not (see EncryptedVFS.swift for the
/// rollback journal).
final class MemoryFile {
    private var bytes: [UInt8] = []

    static func open(_ file: UnsafeMutablePointer<sqlite3_file>, _ flags: Int32, _ outFlags: UnsafeMutablePointer<Int32>?) -> Int32 {
        (UnsafeMutableRawPointer(file) + 8).storeBytes(
            of: Unmanaged.passRetained(MemoryFile()).toOpaque(), as: UnsafeMutableRawPointer.self)
        file.pointee.pMethods = UnsafePointer(methods)
        outFlags?.pointee = flags
        return SQLITE_OK
    }

    private static func from(_ file: UnsafeMutablePointer<sqlite3_file>?) -> MemoryFile {
        Unmanaged<MemoryFile>.fromOpaque((UnsafeMutableRawPointer(file!) + 8).load(as: UnsafeMutableRawPointer.self))
            .takeUnretainedValue()
    }

    private func read(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int32 {
        let available = max(0, min(buffer.count, bytes.count - offset))
        if available > 0 {
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + available)])) }
        }
        guard available < buffer.count else { return SQLITE_OK }
        UnsafeMutableRawBufferPointer(rebasing: buffer[available...]).initializeMemory(as: UInt8.self, repeating: 0)
        return SQLiteCode.shortRead
    }

    private func write(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
        if bytes.count < offset + buffer.count { grow(to: offset + buffer.count) }
        bytes.withUnsafeMutableBytes {
            UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)]).copyMemory(from: buffer)
        }
        return SQLITE_OK
    }

    /// Grows the file to `size` bytes. Past its capacity an array moves to new storage and frees
    /// the old with the plaintext still in it; this moves it itself, doubling, and zeroes the old.
    private func grow(to size: Int) {
        if size > bytes.capacity {
            var grown = [UInt8]()
            grown.reserveCapacity(max(size, bytes.capacity * 2))
            grown += bytes
            for index in bytes.indices { bytes[index] = 0 }
            bytes = grown
        }
        bytes += repeatElement(0, count: size - bytes.count)
    }

    private func truncate(to size: Int) {
        guard size < bytes.count else { return }
        for index in size..<bytes.count { bytes[index] = 0 }
        bytes.removeLast(bytes.count - size)
    }

    private func close() {
        truncate(to: 0)
    }

    nonisolated(unsafe) private static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        var methods = sqlite3_io_methods()
        methods.iVersion = 1
        methods.xClose = { file in
            let memory = MemoryFile.from(file)
            memory.close()
            Unmanaged.passUnretained(memory).release()
            file!.pointee.pMethods = nil
            return SQLITE_OK
        }
        methods.xRead = { file, buffer, count, offset in
            MemoryFile.from(file).read(UnsafeMutableRawBufferPointer(start: buffer, count: Int(count)), at: Int(offset))
        }
        methods.xWrite = { file, buffer, count, offset in
            MemoryFile.from(file).write(UnsafeRawBufferPointer(start: buffer, count: Int(count)), at: Int(offset))
        }
        methods.xTruncate = { file, size in
            MemoryFile.from(file).truncate(to: Int(size))
            return SQLITE_OK
        }
        methods.xSync = { _, _ in SQLITE_OK }
        methods.xFileSize = { file, size in
            size!.pointee = sqlite3_int64(MemoryFile.from(file).bytes.count)
            return SQLITE_OK
        }
        methods.xLock = { _, _ in SQLITE_OK }
        methods.xUnlock = { _, _ in SQLITE_OK }
        methods.xCheckReservedLock = { _, out in
            out!.pointee = 0
            return SQLITE_OK
        }
        methods.xFileControl = { _, _, _ in SQLITE_NOTFOUND }
        methods.xSectorSize = { _ in 4096 }
        methods.xDeviceCharacteristics = { _ in 0 }
        let pointer = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        pointer.initialize(to: methods)
        return pointer
    }()
}
