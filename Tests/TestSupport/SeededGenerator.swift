/// SplitMix64: a small deterministic generator for fuzz-style tests. A failure message carries
/// the seed, so the exact inputs of a failing run can be made again.
public struct SeededGenerator: RandomNumberGenerator, Sendable, CustomStringConvertible {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// "seed 0x5eed", for failure messages.
    public var description: String { "seed 0x" + String(seed, radix: 16) }
}
