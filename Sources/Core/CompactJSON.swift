/// A direct JSON writer for the types stored and sent on every push, pull and import: the same
/// compact text `JSONEncoder()` (default options) writes for them, byte for byte in length,
/// without its intermediate tree of boxed values. It costs a fraction of `JSONEncoder` on Linux
/// (BENCHMARKS.md, publish and first sync).
///
/// As `JSONEncoder` does: struct keys in declaration order, nil optionals left out, `/` written
/// `\/`, control characters escaped, a whole-number double written without `.0`, and a NaN or
/// infinite double refused; a dictionary's keys sorted (where `JSONEncoder` follows the
/// dictionary's order, which changes from process to process). ``Style/replica`` writes
/// what the replica stores instead (the replica's `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes`): every key sorted, a struct's as a dictionary's, `/` as it is.
package enum CompactJSON {
    /// How keys are ordered and slashes written.
    package enum Style: Sendable {
        /// As `JSONEncoder()` writes: the server's log and wire.
        case server
        /// Every key sorted, `/` unescaped: the replica's records and outbox.
        case replica
        /// As ``server``, but a record's registers that carry its most common stamp leave it to
        /// the record's own `stamp` (``RecordState/sharedStamp``): pull pages for clients of
        /// protocol version 2 (``ProtocolVersion/sharedStamps``), a tenth fewer bytes on the link.
        case sharedStamps
    }

    /// A double JSON cannot carry (NaN or infinite).
    package struct InvalidNumber: Error, Sendable {
        package var value: Double
    }

    /// `change` as JSON.
    package static func encode(_ change: Change, style: Style = .server) throws -> [UInt8] {
        try written(style: style) { try $0.write(change) }
    }

    /// `record` as JSON.
    package static func encode(_ record: TrackedRecord) throws -> [UInt8] {
        try written { try $0.write(record) }
    }

    /// `state` as JSON: a pulled record, or the part of one a page carries.
    package static func encode(_ state: RecordState, style: Style = .server) throws -> [UInt8] {
        try written(style: style) { try $0.write(state) }
    }

    /// A pull answer as JSON, its empty lists left out as `PullResponse.encode(to:)` leaves them.
    /// `encodedChanges`, records as ``encode(_:style:)`` wrote them, follow its changes.
    package static func encode(_ response: PullResponse, encodedChanges: [String] = [], style: Style = .server) throws
        -> [UInt8]
    {
        try written(style: style) { try $0.write(response, encodedChanges: encodedChanges) }
    }

    private static func written(style: Style = .server, _ write: (inout Writer) throws -> Void) throws -> [UInt8] {
        var writer = Writer(style: style)
        try write(&writer)
        return writer.bytes
    }

    struct Writer {
        var bytes: [UInt8] = []
        let style: Style

        init(style: Style = .server) {
            self.style = style
            bytes.reserveCapacity(4096)
        }

        mutating func write(_ change: Change) throws {
            guard style != .replica else { return try writeSorted(change) }
            raw(#"{"id":"#)
            string(change.id)
            if let base = change.base {
                raw(#","base":"#)
                string(base.description)
            }
            raw(#","record":"#)
            try write(change.record)
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ state: RecordState) throws {
            guard style != .replica else { return try writeSorted(state) }
            let shared = style == .sharedStamps ? state.sharedStamp : nil
            raw(#"{"id":"#)
            string(state.id)
            raw(#","kind":"#)
            string(state.kind.rawValue)
            raw(#","fields":"#)
            try object(state.fields) { try $0.write($1, sharing: shared) }
            if let deleted = state.deleted {
                raw(#","deleted":"#)
                try write(deleted, sharing: shared)
            }
            if let shared {
                raw(#","stamp":"#)
                stamp(shared)
            }
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ response: PullResponse, encodedChanges: [String] = []) throws {
            var separator = "{"
            func key(_ name: String) {
                raw(separator + "\"" + name + "\":")
                separator = ","
            }
            if !response.changes.isEmpty || !encodedChanges.isEmpty {
                key("changes")
                bytes.append(UInt8(ascii: "["))
                for (index, change) in response.changes.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    try write(change)
                }
                for (index, change) in encodedChanges.enumerated() {
                    if index > 0 || !response.changes.isEmpty { bytes.append(UInt8(ascii: ",")) }
                    raw(change)
                }
                bytes.append(UInt8(ascii: "]"))
            }
            if !response.removed.isEmpty {
                key("removed")
                list(response.removed) { $0.string($1) }
            }
            if !response.conflicts.isEmpty {
                key("conflicts")
                try list(response.conflicts) { try $0.write($1) }
            }
            key("cursor")
            string(response.cursor.description)
            key("more")
            raw(response.more ? "true" : "false")
            key("serverTime")
            raw(String(response.serverTime))
            if let remaining = response.remaining {
                key("remaining")
                raw(String(remaining))
            }
            if let signature = response.signature {
                key("signature")
                raw(#"{"key":"#)
                string(signature.key)
                raw(#","seq":"#)
                raw(String(signature.seq))
                raw(#","digest":"#)
                string(signature.digest)
                raw(#","signature":"#)
                string(signature.signature)
                bytes.append(UInt8(ascii: "}"))
            }
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ conflict: Conflict) throws {
            raw(#"{"recordID":"#)
            string(conflict.recordID)
            raw(#","kind":"#)
            string(conflict.kind.rawValue)
            raw(#","field":"#)
            string(conflict.field)
            raw(#","value":"#)
            try write(conflict.value)
            raw(#","stamp":"#)
            stamp(conflict.stamp)
            raw(#","winner":"#)
            stamp(conflict.winner)
            raw(#","winnerAuthor":"#)
            string(conflict.winnerAuthor)
            raw(#","reason":"#)
            string(conflict.reason.rawValue)
            raw(#","recipient":"#)
            string(conflict.recipient)
            bytes.append(UInt8(ascii: "}"))
        }

        /// A JSON object of `members`, sorted by key in every style: the dictionary's own order
        /// differs from record to record (Swift seeds its hashing per process), and records
        /// whose fields come in one order gzip about 3% smaller on the link (BENCHMARKS.md).
        private mutating func object<Value>(_ members: [String: Value], _ write: (inout Writer, Value) throws -> Void)
            rethrows
        {
            bytes.append(UInt8(ascii: "{"))
            for (index, (name, member)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                try self.member(name, member, first: index == 0, write)
            }
            bytes.append(UInt8(ascii: "}"))
        }

        private mutating func member<Value>(
            _ name: String, _ value: Value, first: Bool, _ write: (inout Writer, Value) throws -> Void
        ) rethrows {
            if !first { bytes.append(UInt8(ascii: ",")) }
            string(name)
            bytes.append(UInt8(ascii: ":"))
            try write(&self, value)
        }

        private mutating func list<Item>(_ items: [Item], _ write: (inout Writer, Item) throws -> Void) rethrows {
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try write(&self, item)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        /// A register; without its stamp when it is `sharing`, the stamp its record states once.
        mutating func write(_ register: Register, sharing shared: Timestamp? = nil) throws {
            if let shared, register.stamp == shared {
                raw(#"{"value":"#)
                try write(register.value)
                bytes.append(UInt8(ascii: "}"))
                return
            }
            guard style != .replica else {
                raw(#"{"stamp":"#)
                stamp(register.stamp)
                raw(#","value":"#)
                try write(register.value)
                bytes.append(UInt8(ascii: "}"))
                return
            }
            raw(#"{"value":"#)
            try write(register.value)
            raw(#","stamp":"#)
            stamp(register.stamp)
            bytes.append(UInt8(ascii: "}"))
        }

        /// A change in the replica's style: its keys, and its record's, sorted.
        private mutating func writeSorted(_ change: Change) throws {
            bytes.append(UInt8(ascii: "{"))
            if let base = change.base {
                raw(#""base":"#)
                string(base.description)
                bytes.append(UInt8(ascii: ","))
            }
            raw(#""id":"#)
            string(change.id)
            raw(#","record":"#)
            try writeSorted(change.record)
            bytes.append(UInt8(ascii: "}"))
        }

        /// A record in the replica's style: its keys sorted.
        private mutating func writeSorted(_ state: RecordState) throws {
            bytes.append(UInt8(ascii: "{"))
            if let deleted = state.deleted {
                raw(#""deleted":"#)
                try write(deleted)
                bytes.append(UInt8(ascii: ","))
            }
            raw(#""fields":"#)
            try object(state.fields) { try $0.write($1) }
            raw(#","id":"#)
            string(state.id)
            raw(#","kind":"#)
            string(state.kind.rawValue)
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ record: TrackedRecord) throws {
            raw(#"{"id":"#)
            string(record.id)
            raw(#","kind":"#)
            string(record.kind.rawValue)
            raw(#","fields":"#)
            try object(record.fields) { try $0.write($1) }
            if let deleted = record.deleted {
                raw(#","deleted":"#)
                try write(deleted)
            }
            raw(#","lastSeq":"#)
            raw(String(record.lastSeq))
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ entry: TrackedRecord.Entry) throws {
            raw(#"{"register":"#)
            try write(entry.register)
            raw(#","seq":"#)
            raw(String(entry.seq))
            raw(#","author":"#)
            string(entry.author)
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func write(_ value: JSONValue) throws {
            switch value {
            case .null: raw("null")
            case .bool(let flag): raw(flag ? "true" : "false")
            case .int(let number): raw(String(number))
            case .double(let number):
                guard number.isFinite else { throw InvalidNumber(value: number) }
                var text = number.description
                if text.hasSuffix(".0") { text.removeLast(2) }
                raw(text)
            case .string(let text): string(text)
            case .array(let items): try list(items) { try $0.write($1) }
            case .object(let members): try object(members) { try $0.write($1) }
            }
        }

        /// A stamp as ``Timestamp/description`` spells it, written digit by digit: every register
        /// has one, and building each as a `String` first was a tenth of a push's CPU.
        mutating func stamp(_ stamp: Timestamp) {
            bytes.append(UInt8(ascii: "\""))
            hex(stamp.physical, width: 12)
            bytes.append(UInt8(ascii: "-"))
            hex(UInt64(stamp.counter), width: 4)
            bytes.append(UInt8(ascii: "-"))
            // Lowercase letters and digits only (``ReplicaID``): nothing to escape.
            bytes.append(contentsOf: stamp.replica.rawValue.utf8)
            bytes.append(UInt8(ascii: "\""))
        }

        /// `value` in lowercase hex, zero-padded to `width` digits.
        private mutating func hex(_ value: UInt64, width: Int) {
            var count = max(width, (64 - value.leadingZeroBitCount + 3) / 4)
            while count > 0 {
                count -= 1
                let digit = UInt8(truncatingIfNeeded: value >> UInt64(4 * count)) & 0xF
                bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            }
        }

        mutating func raw(_ text: String) {
            bytes.append(contentsOf: text.utf8)
        }

        /// A JSON string, escaped as `JSONEncoder` escapes it; runs needing no escape are copied whole.
        mutating func string(_ text: String) {
            bytes.append(UInt8(ascii: "\""))
            let escapesSlashes = style != .replica
            var text = text
            text.withUTF8 { utf8 in
                let raw = UnsafeRawBufferPointer(utf8)
                var start = 0
                while true {
                    let index = PlainText.end(of: raw, from: start, slash: escapesSlashes)
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                    guard index < utf8.count else { break }
                    escape(utf8[index])
                    start = index + 1
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        private mutating func escape(_ byte: UInt8) {
            switch byte {
            case UInt8(ascii: "\""): raw(#"\""#)
            case UInt8(ascii: "\\"): raw(#"\\"#)
            case UInt8(ascii: "/"): raw(#"\/"#)
            case 0x08: raw(#"\b"#)
            case 0x09: raw(#"\t"#)
            case 0x0A: raw(#"\n"#)
            case 0x0C: raw(#"\f"#)
            case 0x0D: raw(#"\r"#)
            default:
                let digits = Array("0123456789abcdef".utf8)
                raw(#"\u00"#)
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            }
        }
    }
}
