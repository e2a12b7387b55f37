import CLtHash
import Crypto
import Foundation
import HavenCore

/// A homomorphic hash of a set of records (LtHash, Bellare–Micciancio; as Facebook's
/// "Securing update propagation with homomorphic hashing", 2019): 1024 lanes of 16 bits, each
/// record's element added lane by lane with wrapping arithmetic. Adding and removing a record
/// costs the same whatever the set's size, and the result does not depend on order.
///
/// A record's element is its ``elementSeed(of:)`` (the SHA-256 of its ``CanonicalRecord``
/// encoding) expanded to 2 KiB by SHA-256 in counter mode: block `i` is
/// `SHA-256(seed ‖ i as 4 bytes big-endian)`, read as little-endian lanes.
///
/// For example, what the server does when a push publishes `after` over `before`:
/// ```swift
/// var digest = try PublishedSetDigest(bytes: stored)
/// digest.remove(before)
/// digest.add(after)
/// ```
public struct PublishedSetDigest: Sendable, Hashable {
    /// The number of 16-bit lanes.
    public static let laneCount = 1024
    /// The size of ``bytes``.
    public static let byteCount = laneCount * 2

    /// The lanes; all zero for the empty set.
    public private(set) var lanes: [UInt16]

    /// The digest of the empty set.
    public init() {
        lanes = [UInt16](repeating: 0, count: Self.laneCount)
    }

    /// A digest read back from ``bytes``; nil when `bytes` has the wrong size.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        let array = Array(bytes)
        lanes = (0..<Self.laneCount).map { UInt16(array[2 * $0]) | UInt16(array[2 * $0 + 1]) << 8 }
    }

    /// The digest of `records`, computed from scratch (tests, migrations and `haven verify`).
    public init(of records: some Sequence<RecordState>) {
        self.init()
        for record in records where Publication.isInPublishedSet(record) { add(record) }
    }

    /// The lanes as 2048 bytes, little-endian.
    public var bytes: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        for lane in lanes { bytes += [UInt8(lane & 0xFF), UInt8(lane >> 8)] }
        return bytes
    }

    /// The SHA-256 of ``bytes``: what a signature covers and a pull answer carries.
    public var summary: [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// The 32-byte seed of `record`'s element: a client keeps it per record, so that removing
    /// the record later needs no copy of what it held.
    public static func elementSeed(of record: RecordState) -> [UInt8] {
        // Copied through its bytes: `Array(digest)` goes element by element through Sequence.
        SHA256.hash(data: CanonicalRecord.encoding(kind: record.kind, id: record.id, values: record.values))
            .withUnsafeBytes { Array($0) }
    }

    /// Adds `record` (which must be in the published set) to the set.
    public mutating func add(_ record: RecordState) { add(seed: Self.elementSeed(of: record)) }

    /// Removes `record`, added before, from the set.
    public mutating func remove(_ record: RecordState) { remove(seed: Self.elementSeed(of: record)) }

    /// Adds what was added to and removed from `changes`, a digest begun empty: LtHash digests
    /// sum lane by lane, so the changes of a push can be summed on several cores and then added.
    public mutating func add(changesOf changes: PublishedSetDigest) {
        for index in lanes.indices { lanes[index] &+= changes.lanes[index] }
    }

    /// Adds the element whose seed is `seed`.
    public mutating func add(seed: [UInt8]) { apply(seed, subtract: false) }

    /// Removes the element whose seed is `seed`.
    public mutating func remove(seed: [UInt8]) { apply(seed, subtract: true) }

    /// Adds or removes the element of `seed`: with the processor's SHA instructions where it has
    /// them (`CLtHash`, a seventh of the time: every record published or pulled costs 64 hashes
    /// here), else as ``element(of:)`` says; the two agree bit for bit.
    package mutating func apply(_ seed: [UInt8], subtract: Bool, portable: Bool = false) {
        if !portable, seed.count == SHA256.byteCount {
            let done = lanes.withUnsafeMutableBufferPointer { lanes in
                seed.withUnsafeBufferPointer { haven_lthash_apply($0.baseAddress, lanes.baseAddress, subtract ? 1 : 0) == 1 }
            }
            if done { return }
        }
        let element = Self.element(of: seed)
        lanes.withUnsafeMutableBufferPointer { lanes in
            for index in lanes.indices {
                lanes[index] = subtract ? lanes[index] &- element[index] : lanes[index] &+ element[index]
            }
        }
    }

    /// The lanes of the element expanded from `seed`. Written over raw buffers, as every record
    /// published or pulled costs 64 hashes here (a tenth of a push's CPU on both sides before).
    private static func element(of seed: [UInt8]) -> [UInt16] {
        var input = seed + [0, 0, 0, 0]
        var element = [UInt16](repeating: 0, count: laneCount)
        let lanesPerBlock = SHA256.byteCount / 2
        input.withUnsafeMutableBytes { input in
            element.withUnsafeMutableBufferPointer { element in
                for block in 0..<(laneCount / lanesPerBlock) {
                    input.storeBytes(of: UInt32(block).bigEndian, toByteOffset: seed.count, as: UInt32.self)
                    var hasher = SHA256()
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(input))
                    hasher.finalize().withUnsafeBytes { hash in
                        for lane in 0..<lanesPerBlock {
                            element[block * lanesPerBlock + lane] = UInt16(hash[2 * lane]) | UInt16(hash[2 * lane + 1]) << 8
                        }
                    }
                }
            }
        }
        return element
    }
}
