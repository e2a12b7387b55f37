import HavenCore
import Testing

/// Location and device metadata removed from photos (issue 17), on small hand-built files.
struct PhotoMetadataTests {
    /// A JPEG segment: marker, then a length that counts itself.
    private static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// An EXIF block, big-endian, whose IFD0 points at a GPS IFD holding latitude N 38° 2' 10.5".
    static let exifWithGPS: [UInt8] = {
        var tiff: [UInt8] = Array("MM".utf8) + [0x00, 0x2A, 0, 0, 0, 8]
        // IFD0 at 8: one entry, GPSInfo (0x8825), LONG, 1, pointing at 26; then no next IFD.
        tiff += [0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]
        // GPS IFD at 26: GPSLatitudeRef "N", GPSLatitude three rationals at 56.
        tiff += [0, 2, 0, 1, 0, 2, 0, 0, 0, 2] + Array("N".utf8) + [0, 0, 0]
        tiff += [0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56, 0, 0, 0, 0]
        tiff += [0, 0, 0, 38, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 105, 0, 0, 0, 10]
        return Array("Exif".utf8) + [0, 0] + tiff
    }()

    /// The parts of a tiny JPEG that must survive: JFIF, a colour profile, tables, frame, scan.
    static let imageParts: (head: [UInt8], body: [UInt8]) = (
        head: segment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
            + segment(0xE2, Array("ICC_PROFILE".utf8) + [0, 1, 1, 9, 9]),
        body: segment(0xDB, [0] + Array(repeating: 1, count: 64))
            + segment(0xC0, [8, 0, 1, 0, 1, 1, 1, 0x11, 0])
            + segment(0xDA, [1, 1, 0, 0, 0x3F, 0]) + [0x12, 0x34, 0xFF, 0x00, 0x56] + [0xFF, 0xD9]
    )

    @Test func gpsAndDeviceSegmentsLeaveAJPEGAndTheImageStays() throws {
        // Given a JPEG with EXIF GPS, XMP and a comment naming the device
        let xmp = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0] + Array("<x:xmpmeta>Galaxy A12</x:xmpmeta>".utf8)
        let photo: [UInt8] =
            [0xFF, 0xD8] + Self.imageParts.head + Self.segment(0xE1, Self.exifWithGPS) + Self.segment(0xE1, xmp)
            + Self.segment(0xFE, Array("SM-A125F".utf8)) + Self.imageParts.body
        #expect(photo.firstRange(of: [0x88, 0x25]) != nil)

        // When its metadata is stripped
        let clean = try #require(PhotoMetadata.stripped(photo))

        // Then no GPS tag, EXIF, XMP or device name is left, and every other byte is as it was
        #expect(clean.firstRange(of: [0x88, 0x25]) == nil)
        #expect(clean.firstRange(of: Array("Exif".utf8)) == nil)
        #expect(clean.firstRange(of: Array("xmpmeta".utf8)) == nil)
        #expect(clean.firstRange(of: Array("SM-A125F".utf8)) == nil)
        #expect(clean == [0xFF, 0xD8] + Self.imageParts.head + Self.imageParts.body)
    }

    @Test func textAndExifChunksLeaveAPNG() throws {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let n = data.count
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + Array(type.utf8) + data
                + [1, 2, 3, 4]
        }
        let kept = chunk("IHDR", Array(repeating: 0, count: 13)) + chunk("IDAT", [7, 7, 7])
        let photo =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", Array(repeating: 0, count: 13))
            + chunk("tEXt", Array("Location\u{0}Hyesan".utf8)) + chunk("eXIf", Self.exifWithGPS.dropFirst(6).map { $0 })
            + chunk("iTXt", Array("Device\u{0}0\u{0}\u{0}\u{0}Pixel".utf8)) + chunk("IDAT", [7, 7, 7]) + chunk("IEND", [])
        let clean = try #require(PhotoMetadata.stripped(photo))
        #expect(clean == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + kept + chunk("IEND", []))
    }

    @Test func aTruncatedPhotoIsRefusedAndOtherFilesPassAsTheyAre() {
        let photo: [UInt8] = [0xFF, 0xD8] + Self.segment(0xE1, Self.exifWithGPS)
        #expect(PhotoMetadata.stripped(Array(photo.dropLast(10))) == nil)
        let pdf = Array("%PDF-1.7 Exif GPS".utf8)
        #expect(PhotoMetadata.stripped(pdf) == pdf)
    }
}
