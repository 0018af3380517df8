/// A protobuf message that does not decode: where in the message (byte offset) and what is wrong.
public struct ProtoError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var problem: String

    public var description: String { "protobuf message invalid at byte \(offset): \(problem)" }
}

/// The protobuf wire types a proto3 message may carry. Groups (3, 4) are proto2 only and rejected.
enum WireType: UInt8, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

/// Reads one message's fields in order. Nested messages are read by a reader over their byte range
/// of the same buffer, so decoding copies nothing but the strings it keeps.
struct ProtoReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int

    init(_ bytes: [UInt8]) { self.init(bytes, range: 0..<bytes.count) }

    private init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    /// The next field's number and wire type; nil at the end of the message.
    mutating func nextField() throws(ProtoError) -> (number: UInt64, wireType: WireType)? {
        guard position < end else { return nil }
        let start = position
        let key = try varint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtoError(offset: start, problem: "wire type \(key & 7) is not one proto3 uses")
        }
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else { throw ProtoError(offset: start, problem: "field number \(number) is out of range") }
        return (number, wireType)
    }

    mutating func varint() throws(ProtoError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard position < end else { throw ProtoError(offset: start, problem: "varint runs past the end") }
            let byte = bytes[position]
            position += 1
            guard shift < 63 || byte <= 1 else { throw ProtoError(offset: start, problem: "varint longer than 64 bits") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw ProtoError(offset: start, problem: "varint longer than 10 bytes")
    }

    /// The reader of a length-delimited field (a nested message).
    mutating func message() throws(ProtoError) -> ProtoReader {
        ProtoReader(bytes, range: try lengthDelimited())
    }

    mutating func string(field: UInt64) throws(ProtoError) -> String {
        let start = position
        let range = try lengthDelimited()
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw ProtoError(offset: start, problem: "field \(field) is not valid UTF-8")
        }
        return text
    }

    /// Skips a field this decoder does not keep (CPU IDs, memory, topology, fields added later).
    mutating func skip(_ wireType: WireType) throws(ProtoError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    /// The number of the next length-delimited field, skipping fields of every other wire type:
    /// every field this decoder keeps is length-delimited, and a field whose wire type differs
    /// from the schema's is an unknown field, as the reference runtimes treat it. nil at the end.
    mutating func nextLengthDelimited() throws(ProtoError) -> UInt64? {
        while let (number, wireType) = try nextField() {
            if wireType == .lengthDelimited { return number }
            try skip(wireType)
        }
        return nil
    }

    /// Skips the payload of a length-delimited field that is not kept.
    mutating func skipPayload() throws(ProtoError) { _ = try lengthDelimited() }

    private mutating func lengthDelimited() throws(ProtoError) -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw ProtoError(offset: start, problem: "length \(length) runs past the end of the message")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    private mutating func advance(_ count: Int) throws(ProtoError) {
        guard end - position >= count else { throw ProtoError(offset: position, problem: "fixed-width value runs past the end") }
        position += count
    }
}

/// Writes fields in field-number order, leaving out proto3 defaults (empty strings) as the
/// reference runtimes do, so our bytes equal theirs.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func string(_ field: UInt64, _ value: String) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, Array(value.utf8))
    }

    /// A repeated string: every element, empty ones included.
    mutating func strings(_ field: UInt64, _ values: [String]) {
        for value in values { lengthDelimited(field, Array(value.utf8)) }
    }

    /// A nested message (written even when empty: presence matters for message fields).
    mutating func message(_ field: UInt64, _ encode: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        encode(&inner)
        lengthDelimited(field, inner.bytes)
    }

    private mutating func lengthDelimited(_ field: UInt64, _ payload: [UInt8]) {
        varint(field << 3 | UInt64(WireType.lengthDelimited.rawValue))
        varint(UInt64(payload.count))
        bytes += payload
    }

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
