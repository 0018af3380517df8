@testable import HTTPS
import Testing

/// The DER surgery that keeps the server's certificate out of a stored session. Its input is
/// OpenSSL's own output, but it is hand-written parsing: it must never crash, and must keep a
/// session it does not understand whole (nil).
@Suite("TLS session without the peer certificate")
struct TLSSessionCacheTests {
    /// A TLV with a one-byte tag, in short or long length form.
    static func tlv(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        switch value.count {
        case ..<0x80: [tag, UInt8(value.count)] + value
        case ..<0x100: [tag, 0x81, UInt8(value.count)] + value
        default: [tag, 0x82, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
        }
    }

    /// Shaped like OpenSSL's SSL_SESSION_ASN1: version, protocol, cipher, master key, then
    /// tagged optional fields, `[3]` being the peer certificate.
    static func session(certificateSize: Int, ticketSize: Int = 40) -> (whole: [UInt8], withoutPeer: [UInt8]) {
        let head = tlv(0x02, [1]) + tlv(0x02, [3, 4]) + tlv(0x04, [0x13, 0x02]) + tlv(0x04, [UInt8](repeating: 7, count: 48))
        let peer = tlv(0xA3, tlv(0x30, [UInt8](repeating: 0x55, count: certificateSize)))
        let tail = tlv(0xA4, tlv(0x04, [])) + tlv(0xAA, tlv(0x04, [UInt8](repeating: 9, count: ticketSize)))
        return (tlv(0x30, head + peer + tail), tlv(0x30, head + tail))
    }

    @Test("drops [3] and re-frames the SEQUENCE", arguments: [(20, 10), (300, 40), (700, 180), (40, 3000)])
    func dropsThePeerCertificate(certificateSize: Int, ticketSize: Int) {
        let (whole, expected) = Self.session(certificateSize: certificateSize, ticketSize: ticketSize)
        #expect(TLSSessionCache.withoutPeerCertificate(whole) == expected)
    }

    @Test("anything unexpected keeps the session whole", arguments: [
        ("no peer certificate", tlv(0x30, tlv(0x02, [1]) + tlv(0x04, [1, 2]))),
        ("not a SEQUENCE", tlv(0x31, tlv(0xA3, tlv(0x30, [1])))),
        ("empty", []),
        ("trailing bytes after the SEQUENCE", tlv(0x30, tlv(0xA3, [])) + [0]),
        ("a multi-byte tag", tlv(0x30, [0x1F, 0x81, 0x01, 0x00] + tlv(0xA3, []))),
        ("a length past the end", [0x30, 0x05, 0xA3, 0x10, 0x00]),
        ("a four-byte length", [0x30, 0x84, 0, 0, 0, 2, 0xA3, 0x00]),
    ])
    func keepsWhatItDoesNotUnderstand(_ name: String, _ der: [UInt8]) {
        #expect(TLSSessionCache.withoutPeerCertificate(der) == nil, "\(name)")
    }

    /// Every truncation and every single-byte change of a session: no crash, and any answer is
    /// a SEQUENCE no longer than its input.
    @Test func mutatedSessionsNeverCrash() {
        let (whole, _) = Self.session(certificateSize: 150)
        var inputs = (0..<whole.count).map { Array(whole.prefix($0)) }
        for index in whole.indices {
            for value: UInt8 in [0x00, 0x30, 0x7F, 0x80, 0x81, 0x82, 0xA3, 0xFF] {
                var mutated = whole
                mutated[index] = value
                inputs.append(mutated)
            }
        }
        var kept = 0
        var stripped = 0
        for input in inputs {
            guard let result = TLSSessionCache.withoutPeerCertificate(input) else {
                kept += 1
                continue
            }
            stripped += 1
            #expect(result.first == 0x30 && result.count < input.count, "\(input)")
        }
        // Both outcomes occur: many single-byte changes leave the structure intact.
        #expect(kept + stripped == inputs.count)
        #expect(kept > 0)
        #expect(stripped > 0)
    }
}
