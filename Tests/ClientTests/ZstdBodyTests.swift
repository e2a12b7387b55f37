import Foundation
import NIOCore
import Testing
import TestSupport

@testable import HavenClient

/// A streamed answer in zstd (`Content-Encoding: zstd`), as ``BodyInflater`` decodes it from the
/// pieces the link brings: whole, bounded, and never trusting the server's frame.
struct ZstdBodyTests {
    /// Lines of mixed Korean and English, about `bytes` long in all.
    private static func lines(_ bytes: Int) -> Data {
        var generator = SplitMix64(seed: 20)
        var text = ""
        while text.utf8.count < bytes {
            let words = (0..<40).map { _ in ["쉼터", "hotline", "정착", "river", "상담", "broker", "여성"][Int(generator.next() % 7)] }
            text += "{\"line\":\"" + words.joined(separator: " ") + "\"}\n"
        }
        return Data(text.utf8)
    }

    /// What `inflater` hands on for `wire` cut into pieces at `cuts`, and the largest piece.
    private static func decode(_ wire: Data, cuts: [Int], encoding: String = "zstd") async throws -> (Data, largest: Int) {
        let inflater = try BodyInflater(encoding: encoding)
        var decoded = Data()
        var largest = 0
        var start = 0
        for end in cuts.sorted() + [wire.count] where end >= start {
            try await inflater.inflate(ByteBuffer(bytes: wire[start..<end])) { piece in
                decoded.append(piece.bytes)
                largest = max(largest, piece.bytes.count)
            }
            start = end
        }
        return (decoded, largest)
    }

    @Test func aFrameCutAnywhereDecodesToTheSameBytesInBoundedPieces() async throws {
        // Given 1 MiB of lines in one zstd frame, as the server sends a stream
        let plain = Self.lines(1 << 20)
        let wire = TestZstd.compress(plain)
        var generator = SplitMix64(seed: 7)
        for _ in 0..<20 {
            // When it arrives cut at random places
            let cuts = (0..<Int(generator.next() % 12)).map { _ in Int(generator.next() % UInt64(wire.count)) }
            let (decoded, largest) = try await Self.decode(wire, cuts: cuts)

            // Then it decodes to the same bytes, never more than the window at once
            #expect(decoded == plain)
            #expect(largest <= BodyInflater.window)
        }
    }

    @Test func aFrameAskingForMoreThan8MiBOfWindowIsRefusedBeforeItIsDecoded() async throws {
        // Given a frame made with a 128 MiB window, which would make the device hold that much
        let plain = Self.lines(9 << 20)
        let wire = TestZstd.compress(plain, level: 1, windowLog: 27)

        // When it is decoded, then it is refused by name
        await #expect {
            _ = try await Self.decode(wire, cuts: [])
        } throws: { error in
            "\(error)".contains("more than 8 MiB in memory")
        }
    }

    @Test(arguments: ["garbage after the frame", "a changed byte", "not zstd at all"])
    func bytesThatAreNotTheFrameTheyClaimAreUndecodable(damage: String) async throws {
        // Given a frame damaged on the way, or a body that is not zstd at all
        let plain = Self.lines(200_000)
        var wire = TestZstd.compress(plain)
        switch damage {
        case "garbage after the frame": wire.append(contentsOf: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
        case "a changed byte": wire[wire.count - 2] ^= 0xFF  // In the checksum: JSON would still parse.
        default: wire = plain
        }

        // When it is decoded, then the label is named as not matching the body
        await #expect {
            _ = try await Self.decode(wire, cuts: [wire.count / 2])
        } throws: { error in
            "\(error)".contains("labelled 'Content-Encoding: zstd' but is not zstd")
        }
    }

    @Test func aSmallFrameThatDecodesToGigabytesIsHandedOnAWindowAtATime() async throws {
        // Given 256 MiB of one byte in a frame of a few KiB
        let wire = TestZstd.compress(Data(repeating: UInt8(ascii: "a"), count: 256 << 20), level: 1)
        #expect(wire.count < 64 << 10)

        // When it is decoded, stopping after the first 1 MiB as the line splitter would
        let inflater = try BodyInflater(encoding: "zstd")
        var handed = 0
        var largest = 0
        struct Enough: Error {}
        await #expect(throws: Enough.self) {
            try await inflater.inflate(ByteBuffer(bytes: wire)) { piece in
                handed += piece.bytes.count
                largest = max(largest, piece.bytes.count)
                if handed >= 1 << 20 { throw Enough() }
            }
        }

        // Then it never held more than the window at once
        #expect(largest <= BodyInflater.window)
        #expect(handed < 2 << 20)
    }
}
