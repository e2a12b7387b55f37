import Foundation

/// Why a file cannot be read or written, in words that name it and say what to do, instead of
/// Foundation's `NSCocoaErrorDomain Code=260 …`: for every file a person names on a command
/// line (tokens, packs, replicas, exports), on the client and the server alike.
public enum FileProblem {
    /// Why `path` cannot be read, such as "cannot read the token file t.txt: there is no such
    /// file (check the path; the current directory is /home/amina)".
    ///
    /// - Parameter purpose: what the file is for, such as "the token file" or "the pack".
    public static func reading(_ path: String, purpose: String) -> String {
        "cannot read \(purpose) \(path): " + problem(at: path, writing: false)
    }

    /// Why `path` cannot be written.
    public static func writing(_ path: String, purpose: String) -> String {
        "cannot write \(purpose) \(path): " + problem(at: path, writing: true)
    }

    /// The words for a Foundation file error, when `error` is one; nil otherwise.
    public static func describe(_ error: any Error) -> String? {
        let error = error as NSError
        guard error.domain == NSCocoaErrorDomain,
            let path = (error.userInfo[NSFilePathErrorKey] as? String)
                ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
        else { return nil }
        let writing = (CocoaError.Code.fileWriteUnknown.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue)
            .contains(error.code)
        return writing ? Self.writing(path, purpose: "the file") : reading(path, purpose: "the file")
    }

    private static func problem(at path: String, writing: Bool) -> String {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        if files.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "it is a directory, not a file: give the path of a file in it" }
            let allowed = writing ? files.isWritableFile(atPath: path) : files.isReadableFile(atPath: path)
            if !allowed { return "permission denied: check the file's owner and permissions (ls -l \(path))" }
            return "check that it is a file this user may \(writing ? "write" : "read")"
        }
        if !files.fileExists(atPath: parent, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return "there is no directory \(parent) (check the path, or create the directory first)"
        }
        if writing { return "permission denied in \(parent): choose a directory this user may write to" }
        return "there is no such file (check the path; the current directory is \(files.currentDirectoryPath))"
    }
}
