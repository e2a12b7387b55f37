import Foundation

/// Why a file cannot be read or written, in words that name it and say what to do, instead of
/// Foundation's `NSCocoaErrorDomain Code=260 …`: for every file a person names on a command
/// line (tokens, packs, replicas, exports), on the client and the server alike.
public enum FileProblem {
    /// What a file is for, as the words name it: "the token file", "the pack", "the file".
    /// Each Korean name ends in a consonant, so the words' 을 fits all of them.
    public struct Purpose: Sendable {
        let words: Words

        /// Any file.
        public static let file = Purpose(words: Words("the file", korean: "파일"))
        /// A file holding a token.
        public static let tokenFile = Purpose(words: Words("the token file", korean: "토큰 파일"))
        /// A content pack.
        public static let pack = Purpose(words: Words("the pack", korean: "콘텐츠 팩"))
    }

    /// Why `path` cannot be read, such as "cannot read the token file t.txt: there is no such
    /// file (check the path; the current directory is /home/amina)".
    public static func reading(_ path: String, purpose: Purpose) -> Words {
        Words("cannot read \(purpose.words.english) \(path): ", korean: "\(purpose.words.korean)(\(path))을 읽을 수 없습니다: ")
            + problem(at: path, writing: false)
    }

    /// Why `path` cannot be written.
    public static func writing(_ path: String, purpose: Purpose) -> Words {
        Words("cannot write \(purpose.words.english) \(path): ", korean: "\(purpose.words.korean)(\(path))을 쓸 수 없습니다: ")
            + problem(at: path, writing: true)
    }

    /// The words for a Foundation file error, when `error` is one; nil otherwise.
    public static func describe(_ error: any Error) -> Words? {
        let error = error as NSError
        guard error.domain == NSCocoaErrorDomain,
            let path = (error.userInfo[NSFilePathErrorKey] as? String)
                ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
        else { return nil }
        let writing = (CocoaError.Code.fileWriteUnknown.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue)
            .contains(error.code)
        return writing ? Self.writing(path, purpose: .file) : reading(path, purpose: .file)
    }

    private static func problem(at path: String, writing: Bool) -> Words {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        if files.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                return Words(
                    "it is a directory, not a file: give the path of a file in it",
                    korean: "파일이 아니라 디렉터리입니다: 그 안에 있는 파일의 경로를 주세요")
            }
            let allowed = writing ? files.isWritableFile(atPath: path) : files.isReadableFile(atPath: path)
            if !allowed {
                return Words(
                    "permission denied: check the file's owner and permissions (ls -l \(path))",
                    korean: "권한이 없습니다: 파일의 소유자와 권한을 확인하세요 (ls -l \(path))")
            }
            return writing
                ? Words("check that it is a file this user may write", korean: "이 사용자가 쓸 수 있는 파일인지 확인하세요")
                : Words("check that it is a file this user may read", korean: "이 사용자가 읽을 수 있는 파일인지 확인하세요")
        }
        if !files.fileExists(atPath: parent, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return Words(
                "there is no directory \(parent) (check the path, or create the directory first)",
                korean: "\(parent) 디렉터리가 없습니다 (경로를 확인하거나, 먼저 디렉터리를 만드세요)")
        }
        if writing {
            return Words(
                "permission denied in \(parent): choose a directory this user may write to",
                korean: "\(parent)에 쓸 권한이 없습니다: 이 사용자가 쓸 수 있는 디렉터리를 고르세요")
        }
        return Words(
            "there is no such file (check the path; the current directory is \(files.currentDirectoryPath))",
            korean: "그런 파일이 없습니다 (경로를 확인하세요. 현재 디렉터리는 \(files.currentDirectoryPath)입니다)")
    }
}
