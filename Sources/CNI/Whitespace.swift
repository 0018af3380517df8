extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    ///
    /// Trimmed as UTF-8 bytes, which a String's first use does not pay generic instantiation for
    /// (a delegate's every output passes here). Where the kept text starts or ends beside a
    /// non-ASCII byte, a grapheme could join it to the whitespace (a combining mark after a
    /// space, a prepended mark before one): that case is trimmed by Character, as before.
    public var trimmingWhitespace: String {
        let bytes = utf8
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        let trimmedBefore = first != bytes.startIndex, trimmedAfter = bytes.index(after: last) != bytes.endIndex
        if (trimmedBefore && bytes[first] >= 0x80) || (trimmedAfter && bytes[last] >= 0x80) { return trimmingWhitespaceByCharacter }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    private var trimmingWhitespaceByCharacter: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
