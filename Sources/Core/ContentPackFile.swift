import Foundation

/// A content pack's file, as both `haven import` and `haven-server import` read and update it.
public enum ContentPackFile {
    /// The bytes of `path`, or of standard input for `-`.
    ///
    /// - Throws: ``ContentPackError`` naming the file and saying in words why it cannot be read.
    public static func read(_ path: String) throws(ContentPackError) -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: path)
        else { throw ContentPackError(message: FileProblem.reading(path, purpose: .pack).text) }
        return data
    }

    /// Writes the ids given to records that had none back into the pack's file, so that importing
    /// it again updates those records instead of adding copies. Nothing is written for standard
    /// input or when no id was given.
    ///
    /// - Returns: whether the file was rewritten.
    public static func writeGeneratedIDs(_ reading: PackReading, original: Data, to path: String) throws(ContentPackError) -> Bool {
        guard path != "-", !reading.generatedIDs.isEmpty else { return false }
        do {
            try ContentPack.writingIDs(of: reading, into: original).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ContentPackError(
                message: Words(
                    "\(path): the records were imported, but their new ids could not be written into the file "
                        + "(\(error.localizedDescription)); importing it again would add them again",
                    korean: "\(path): 기록은 가져왔지만 새 id를 파일에 쓰지 못했습니다 (\(error.localizedDescription)). "
                        + "이 파일을 다시 가져오면 같은 기록이 또 추가됩니다"
                ).text)
        }
        return true
    }

    /// What a person reads about the ids given: where they went.
    public static func generatedIDsReport(_ reading: PackReading, path: String, written: Bool) -> [String] {
        guard !reading.generatedIDs.isEmpty else { return [] }
        let lines = reading.generatedIDs.map { number in
            let id = reading.pack.records[number - 1].id
            return Words("  record \(number): \(id)", korean: "  \(number)번째 기록: \(id)").text
        }
        return written
            ? [
                Words(
                    "gave \(lines.count) record(s) new ids, written into \(path)",
                    korean: "기록 \(lines.count)개에 새 id를 주고 파일에 써 두었습니다: \(path)"
                ).text
            ]
            : [
                Words(
                    "gave \(lines.count) record(s) new ids (add them to the pack before importing it again):",
                    korean: "기록 \(lines.count)개에 새 id를 주었습니다 (다시 가져오기 전에 팩에 넣으세요):"
                ).text
            ] + lines
    }
}
