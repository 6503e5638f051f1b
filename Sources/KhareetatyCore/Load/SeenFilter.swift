/// A fixed-size Bloom filter of the incident ids a run has staged, so the loader can tell the
/// server which records *might* repeat an id seen earlier in the run. It never misses a repeat
/// (no false negatives), so the server only has to rank the ids of flagged records instead of
/// grouping every staged row — while the client's memory stays the same whatever the input size.
///
/// 2^27 bits (16 MiB) and three probes: about 10 false "maybe" in a million distinct ids, about
/// one in a thousand at five million; more only costs the server a little more work, never a
/// wrong answer.
struct SeenFilter {
    private var bits: [UInt64]
    private let mask: UInt64

    /// A tiny filter to stand in while the real one is moved out (see `IncidentStore.stage`).
    static let placeholder = SeenFilter(log2Bits: 6)

    init(log2Bits: Int = 27) {
        bits = [UInt64](repeating: 0, count: 1 << (log2Bits - 6))
        mask = (1 << UInt64(log2Bits)) - 1
    }

    /// Records `id`; returns whether it may have been recorded before.
    mutating func insert(_ id: String) -> Bool {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325, h2: UInt64 = 0x8422_2325_cbf2_9ce4
        var id = id
        id.withUTF8 { bytes in  // two FNV-1a variants; probes h1 + i·h2 (Kirsch–Mitzenmacher)
            for byte in bytes {
                h1 = (h1 ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                h2 = (h2 &+ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
            }
        }
        h2 |= 1
        var seen = true
        for i in 0..<3 as Range<UInt64> {
            let bit = (h1 &+ i &* h2) & mask
            let word = Int(bit >> 6), flag = UInt64(1) << (bit & 63)
            if bits[word] & flag == 0 { seen = false; bits[word] |= flag }
        }
        return seen
    }
}
