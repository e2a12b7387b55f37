import Foundation
import HavenCore
import HavenTrust

/// Signed content (issue 14), in-process: what keeping the published set's digest and checking
/// its signature costs per change, at each size of the published set. Both sides do the same
/// per change, whatever the size: the server takes the record's old element out and puts the new
/// one in, and signs; the client does the same update and verifies the signature. The
/// from-scratch digest (what `haven verify` and a migration compute) is timed once for contrast.
struct SignedSetMeasurement {
    struct Row {
        var size: Int
        /// Median seconds of one incremental update (one record's element out, its new one in).
        var update: Double
        /// Median seconds of signing the digest at a position.
        var sign: Double
        /// Median seconds of checking the signature against the replica's digest.
        var verify: Double
        /// Seconds to compute the digest of every record from scratch.
        var fromScratch: Double
    }

    /// How many changes are timed at each size; the median is reported.
    static let rounds = 1_001

    func run(sizes: [Int], seed: UInt64, log: (String) -> Void) throws -> [Row] {
        let key = PublisherSigningKey()
        var rows: [Row] = []
        for size in sizes {
            var generator = DataGenerator(seed: seed)
            let records = generator.records(size).map(Self.published)
            let started = Date()
            var digest = PublishedSetDigest(of: records)
            let fromScratch = Date().timeIntervalSince(started)
            var updates: [Double] = []
            var signs: [Double] = []
            var verifies: [Double] = []
            for round in 0..<Self.rounds {
                let old = records[round % records.count]
                var new = old
                new.fields["phone"] = Register(.string("+82 2 \(1000 + round)"), stamp: old.fields.values.first!.stamp)
                let update = Date()
                digest.remove(old)
                digest.add(new)
                updates.append(Date().timeIntervalSince(update))
                let sign = Date()
                let signature = try key.sign(digest, seq: Int64(round))
                signs.append(Date().timeIntervalSince(sign))
                let verify = Date()
                guard key.publicKey.verifies(signature), signature.digest == Data(digest.summary).base64EncodedString() else {
                    throw BenchError("a signature did not verify")
                }
                verifies.append(Date().timeIntervalSince(verify))
                digest.remove(new)
                digest.add(old)
            }
            let row = Row(
                size: size, update: Self.median(updates), sign: Self.median(signs), verify: Self.median(verifies),
                fromScratch: fromScratch)
            log("signed set \(size): update \(row.update * 1e6) µs, verify \(row.verify * 1e6) µs")
            rows.append(row)
        }
        return rows
    }

    /// The table BENCHMARKS.md shows.
    static func markdown(_ rows: [Row]) -> String {
        func micro(_ seconds: Double) -> String { String(format: "%.0f µs", seconds * 1e6) }
        var lines = [
            "| Published records | One update (element out, element in) | Sign | Verify (signature + digest) | Digest from scratch |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in rows {
            lines.append(
                "| \(row.size.formatted()) | \(micro(row.update)) | \(micro(row.sign)) | \(micro(row.verify)) | "
                    + String(format: "%.2f s", row.fromScratch) + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// `record` as published: every generated record counts, whatever status it was given.
    private static func published(_ record: ContentPack.Record) -> RecordState {
        let stamp = Timestamp(physical: 1_750_000_000_000, counter: 0, replica: ReplicaID("b0b")!)
        var values = record.fields
        values["status"] = .string("published")
        values["sensitivity"] = nil
        return RecordState(id: record.id, kind: record.kind, fields: values.mapValues { Register($0, stamp: stamp) })
    }

    private static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
