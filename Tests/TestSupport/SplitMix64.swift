/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", 2014; Vigna's constants): a seedable generator with 64 bits
/// of state whose sequence is the same on every platform and Swift version,
/// unlike `SystemRandomNumberGenerator`. Randomised tests replay from their
/// seed, and `stunscope-synth` writes the same capture for the same seed.
/// Not for anything secret.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The output function alone: every input bit affects every output bit,
    /// so it also serves as a 64-bit hash.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits, as many as a `Double` holds exactly.
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
