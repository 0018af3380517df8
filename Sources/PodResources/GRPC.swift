/// gRPC status codes (grpc/doc/statuscodes.md). A code outside the table reads as `.unknown`,
/// as gRPC clients treat it.
public enum GRPCStatusCode: Int, Sendable, Hashable, CaseIterable {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists, permissionDenied,
         resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, `internal`, unavailable, dataLoss,
         unauthenticated

    init(text: String) { self = Int(text).flatMap(Self.init(rawValue:)) ?? .unknown }

    /// The name gRPC gives it, e.g. `UNIMPLEMENTED`.
    public var name: String {
        var name = ""
        for character in "\(self)" {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }
}

/// How a call ended, from its `grpc-status` and `grpc-message`.
public struct GRPCStatus: Sendable, Hashable, CustomStringConvertible {
    public var code: GRPCStatusCode
    public var message: String

    public init(code: GRPCStatusCode, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code.name : "\(code.name): \(message)" }
}

/// The gRPC wire format over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): each message behind a 5-byte
/// prefix, the status in the trailers.
enum GRPCWire {
    /// A message with its prefix: not compressed (0), then the length, big-endian.
    static func frame(_ message: [UInt8]) -> [UInt8] {
        let length = UInt32(message.count)
        return [0, UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + message
    }

    /// The one message of a unary response's body.
    /// - Throws: the problem, worded for an error message, when the body is not one uncompressed
    ///   message of at most `limit` bytes.
    static func unframe(_ body: [UInt8], limit: Int) throws(GRPCWireError) -> [UInt8] {
        guard body.count >= 5 else { throw GRPCWireError("response body of \(body.count) bytes has no complete gRPC message prefix") }
        guard body[0] == 0 else { throw GRPCWireError("response message is compressed (flag \(body[0])), which was not asked for") }
        let length = body[1..<5].reduce(0) { $0 << 8 | Int($1) }
        guard length <= limit else { throw GRPCWireError("response message of \(length) bytes exceeds the limit of \(limit)") }
        guard body.count - 5 == length else {
            throw GRPCWireError("response body has \(body.count - 5) bytes after the prefix, which announces \(length)")
        }
        return Array(body[5...])
    }

    /// The call's status from the response headers and trailers (a trailers-only response puts
    /// it in the headers). nil when there is none.
    static func status(_ fields: [String: String]) -> GRPCStatus? {
        guard let code = fields["grpc-status"] else { return nil }
        return GRPCStatus(code: GRPCStatusCode(text: code), message: percentDecoded(fields["grpc-message"] ?? ""))
    }

    /// `grpc-message` is percent-encoded UTF-8; a malformed escape stays as it is.
    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let high = hexValue(input[input.startIndex]),
               let low = hexValue(input[input.startIndex + 1]) {
                bytes.append(high << 4 | low)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `grpc-timeout` header: the deadline in milliseconds (at most 8 digits).
    static func timeoutHeader(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = max(1, min(99_999_999, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        return "\(milliseconds)m"
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

struct GRPCWireError: Error, Sendable {
    var problem: String
    init(_ problem: String) { self.problem = problem }
}
