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
                message: "\(path): the records were imported, but their new ids could not be written into the file (\(error.localizedDescription)); importing it again would add them again")
        }
        return true
    }

    /// What a person reads about the ids given: where they went.
    public static func generatedIDsReport(_ reading: PackReading, path: String, written: Bool) -> [String] {
        guard !reading.generatedIDs.isEmpty else { return [] }
        let lines = reading.generatedIDs.map { "  record \($0): \(reading.pack.records[$0 - 1].id)" }
        return written
            ? ["gave \(lines.count) record(s) new ids, written into \(path)"]
            : ["gave \(lines.count) record(s) new ids (add them to the pack before importing it again):"] + lines
    }
}
