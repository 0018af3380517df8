import CNI
import Testing

@Suite("Base64")
struct Base64Tests {
    static let valid: [(text: String, decoded: String)] = [
        ("", ""),
        ("Zg==", "f"),
        ("Zg", "f"),
        ("Zm8=", "fo"),
        ("Zm8", "fo"),
        ("Zm9v", "foo"),
        ("Zm9vYg==", "foob"),
        ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
        ("Zm9v\nYmFy\n", "foobar"),
        ("  Zm9v YmFy\r\n\t", "foobar"),
        ("Zm9vYg=\n=", "foob"),
        ("P/8+", "?\u{FF}>"),
    ]

    @Test(arguments: valid)
    func decodes(text: String, decoded: String) {
        #expect(Base64.decode(text) == Array(decoded.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
    }

    @Test(arguments: [
        "Z",            // one character cannot encode a byte
        "Zm9vY",        // nor can a group of one
        "Zg===",        // too much padding
        "Zm8==",        // padding that does not complete the group
        "Zm9v====",     // padding with nothing to pad
        "=Zm9",         // padding first
        "Zg==Zg==",     // data after padding
        "Zm9v-_",       // URL-safe alphabet
        "Zm9v!",
        "Zm9vYmFy\u{0}",
        "Zm9vYmFyé",
        "-----BEGIN CERTIFICATE-----",
    ])
    func rejects(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func encodesWithPaddingAndRoundTrips() {
        #expect(Base64.encode(Array("admin:s3cr3t".utf8)) == "YWRtaW46czNjcjN0")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode([]) == "")
        let everyByte = (0...255).map { UInt8($0) }
        for length in 0...everyByte.count {
            let bytes = Array(everyByte.prefix(length))
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }
}
