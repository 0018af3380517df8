import CNI
import Testing

@Suite("trimmingWhitespace")
struct WhitespaceTests {
    @Test(arguments: [
        ("  a b \n", "a b"),
        ("\r\n\tx\r\n", "x"),
        ("plain", "plain"),
        (" \t\r\n", ""),
        ("", ""),
        (" é ", "é"),
        // A combining mark joins the space before it into one Character, which is not
        // whitespace: nothing is trimmed there, as when trimming went by Character.
        (" \u{301}x ", " \u{301}x"),
        // U+0600 prepends to the space after it: that Character stays too.
        ("x\u{600} ", "x\u{600} "),
    ])
    func trimsSpacesTabsAndLineBreaksOnly(input: String, expected: String) {
        #expect(input.trimmingWhitespace == expected)
    }
}
