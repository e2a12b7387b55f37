import GRDBSQLite

/// The `sqlite3_io_methods` of an ``EncryptedFile``: reads and writes go through the cipher,
/// everything else (locks, sync, size, the `-shm` wal-index) straight to the unix VFS's file.
///
/// Version 2: no `xFetch`, so SQLite never memory-maps the file (the map would be ciphertext,
/// and a map of plaintext would defeat the point).
extension EncryptedFile {
    nonisolated(unsafe) static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        var methods = sqlite3_io_methods()
        methods.iVersion = 2
        methods.xClose = { file in
            let encrypted = EncryptedFile.from(file)
            let result = encrypted.inner.pointee.pMethods.pointee.xClose(encrypted.inner)
            Unmanaged.passUnretained(encrypted).release()
            file!.pointee.pMethods = nil
            return result
        }
        methods.xRead = { file, buffer, count, offset in
            EncryptedFile.from(file).read(UnsafeMutableRawBufferPointer(start: buffer, count: Int(count)), at: offset)
        }
        methods.xWrite = { file, buffer, count, offset in
            EncryptedFile.from(file).write(UnsafeRawBufferPointer(start: buffer, count: Int(count)), at: offset)
        }
        methods.xTruncate = { file, size in passThrough(file) { $0.pointee.pMethods.pointee.xTruncate($0, size) } }
        methods.xSync = { file, flags in passThrough(file) { $0.pointee.pMethods.pointee.xSync($0, flags) } }
        methods.xFileSize = { file, size in passThrough(file) { $0.pointee.pMethods.pointee.xFileSize($0, size) } }
        methods.xLock = { file, lock in
            let result = passThrough(file) { $0.pointee.pMethods.pointee.xLock($0, lock) }
            if result == SQLITE_OK { EncryptedFile.from(file).lockLevel = lock }
            return result
        }
        methods.xUnlock = { file, lock in
            let result = passThrough(file) { $0.pointee.pMethods.pointee.xUnlock($0, lock) }
            if result == SQLITE_OK { EncryptedFile.from(file).lockLevel = lock }
            return result
        }
        methods.xCheckReservedLock = { file, out in
            passThrough(file) { $0.pointee.pMethods.pointee.xCheckReservedLock($0, out) }
        }
        methods.xFileControl = { file, op, argument in
            passThrough(file) { $0.pointee.pMethods.pointee.xFileControl($0, op, argument) }
        }
        methods.xSectorSize = { file in passThrough(file) { $0.pointee.pMethods.pointee.xSectorSize($0) } }
        methods.xDeviceCharacteristics = { file in
            // Keeps SQLITE_IOCAP_POWERSAFE_OVERWRITE (no WAL padding); drops batch-atomic
            // writes, which would let SQLite skip its journal on F2FS.
            passThrough(file) { $0.pointee.pMethods.pointee.xDeviceCharacteristics($0) } & ~SQLITE_IOCAP_BATCH_ATOMIC
        }
        methods.xShmMap = { file, region, size, extend, out in
            passThrough(file) { $0.pointee.pMethods.pointee.xShmMap($0, region, size, extend, out) }
        }
        methods.xShmLock = { file, offset, count, flags in
            passThrough(file) { $0.pointee.pMethods.pointee.xShmLock($0, offset, count, flags) }
        }
        methods.xShmBarrier = { file in passThrough(file) { $0.pointee.pMethods.pointee.xShmBarrier($0) } }
        methods.xShmUnmap = { file, delete in passThrough(file) { $0.pointee.pMethods.pointee.xShmUnmap($0, delete) } }
        let pointer = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        pointer.initialize(to: methods)
        return pointer
    }()
}

/// Calls `body` with the unix VFS's file under ours.
private func passThrough<T>(
    _ file: UnsafeMutablePointer<sqlite3_file>?, _ body: (UnsafeMutablePointer<sqlite3_file>) -> T
) -> T {
    body(EncryptedFile.underlyingFile(of: file!))
}
