/// Removes location and device metadata from JPEG and PNG photos (issue 17): an EXIF GPS tag can
/// give a hiding place away, a camera's serial number a person.
///
/// Rule 1. JPEG: the APP1 segments (EXIF, with its GPS and camera tags, and XMP), APP13 (IPTC)
/// and comments are dropped; the image data and every other segment (colour profile,
/// quantisation and Huffman tables, the scan) are kept byte for byte.
///
/// Rule 2. PNG: the `eXIf`, `tEXt`, `iTXt`, `zTXt` and `tIME` chunks are dropped; every other
/// chunk is kept byte for byte, its CRC included.
///
/// Rule 3. A file that is neither, or that cannot be read to its end as one, is returned nil:
/// the caller says so rather than storing what it could not clean.
///
/// For example:
/// ```swift
/// guard let clean = PhotoMetadata.stripped(bytes) else { throw cannotClean }
/// ```
public enum PhotoMetadata {
    /// `bytes` without location and device metadata; `bytes` unchanged when the file is not a
    /// JPEG or PNG image; nil when it claims to be one but cannot be read.
    public static func stripped(_ bytes: [UInt8]) -> [UInt8]? {
        if bytes.starts(with: [0xFF, 0xD8]) { return strippedJPEG(bytes) }
        if bytes.starts(with: pngSignature) { return strippedPNG(bytes) }
        return bytes
    }

    /// Whether `bytes` start as a JPEG or PNG image.
    public static func isPhoto(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0xFF, 0xD8]) || bytes.starts(with: pngSignature)
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Markers of the JPEG segments dropped: APP1 (EXIF, XMP), APP13 (IPTC), COM.
    static let droppedJPEGMarkers: Set<UInt8> = [0xE1, 0xED, 0xFE]

    /// PNG chunk types dropped.
    static let droppedPNGChunks: Set<String> = ["eXIf", "tEXt", "iTXt", "zTXt", "tIME"]

    private static func strippedJPEG(_ bytes: [UInt8]) -> [UInt8]? {
        var result: [UInt8] = [0xFF, 0xD8]
        var index = 2
        while index + 4 <= bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF {  // Fill byte before a marker.
                index += 1
                continue
            }
            if marker == 0xDA || marker == 0xD9 {  // Start of scan, or end of image: the rest as it is.
                result += bytes[index...]
                return result
            }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 {  // No length.
                result += bytes[index..<index + 2]
                index += 2
                continue
            }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard length >= 2, index + 2 + length <= bytes.count else { return nil }
            if !droppedJPEGMarkers.contains(marker) { result += bytes[index..<index + 2 + length] }
            index += 2 + length
        }
        return nil
    }

    private static func strippedPNG(_ bytes: [UInt8]) -> [UInt8]? {
        var result = pngSignature
        var index = pngSignature.count
        while index + 12 <= bytes.count {
            let length = bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
            guard length <= bytes.count, index + 12 + length <= bytes.count else { return nil }
            let type = String(decoding: bytes[index + 4..<index + 8], as: UTF8.self)
            let end = index + 12 + length
            if !droppedPNGChunks.contains(type) { result += bytes[index..<end] }
            index = end
            if type == "IEND" { return result }
        }
        return nil
    }
}
