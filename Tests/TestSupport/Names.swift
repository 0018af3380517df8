import CNI

extension ValidatedName {
    /// A name a test spells out and knows to be valid; a typo stops the test at once.
    public static func make(_ text: String) -> Self {
        do { return try Self(text) } catch { fatalError("test name \(text.debugDescription) is invalid: \(error)") }
    }
}
