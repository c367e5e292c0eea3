/// PEFT's `lora_dropout`: in a training pass each adapter reads dropout(x) instead of x,
/// y = x·Wᵀ + (α/r)·(dropout(x)·Aᵀ)·Bᵀ, where dropout zeroes each entry with probability p and
/// scales the rest by 1/(1−p) (so its mean is x). The frozen product and every scoring,
/// rollout, reference and evaluation pass read x itself.
///
/// Nothing is stored: whether an entry is kept is a hash of the pass's draw, the layer, the
/// adapter, the token row and the column, so the backward (and a layer the backward runs again)
/// sees the forward's mask, and the mask does not depend on the thread count.
struct LoRADropout {
    /// The probability an entry is dropped, 0 < p < 1.
    let p: Float
    /// The training pass's draw (`Transformer.dropoutDraw` when its forward ran).
    let draw: UInt64

    /// The draw of a trainer's `step` (an SFT step, an RL update): the masks follow the seed
    /// and the step, so a resumed run draws the ones an uninterrupted run drew.
    static func draw(seed: UInt64, step: Int) -> UInt64 { seed &+ UInt64(step) &* 0x2545_F491_4F6C_DD1D }

    /// Entries whose 16-bit uniform is below this are dropped (p to 1/65,536).
    private var threshold: UInt16 { UInt16(min(65_535, (Double(p) * 65_536).rounded())) }
    private var keptScale: Float { 1 / (1 - p) }

    /// out = dropout(x) over `rows` rows of `dim` columns, for layer l's adapter on `target`.
    func apply(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, dim: Int,
               layer l: Int, target: LoRAConfig.Target) {
        let s = keptScale, cut = threshold
        forEachRow(rows: rows, dim: dim, layer: l, target: target) { i, u in
            let xi = x + i * dim, oi = out + i * dim
            for k in 0..<dim { oi[k] = u[k] < cut ? 0 : xi[k] * s }
        }
    }

    /// dx += dropout's backward of g: g scaled by 1/(1−p) where the forward kept the entry.
    func accumulate(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, dim: Int,
                    layer l: Int, target: LoRAConfig.Target) {
        let s = keptScale, cut = threshold
        forEachRow(rows: rows, dim: dim, layer: l, target: target) { i, u in
            let gi = g + i * dim, di = dx + i * dim
            for k in 0..<dim { di[k] += u[k] < cut ? 0 : gi[k] * s }
        }
    }

    /// body(row, u) for each of `rows` rows of a `dim`-wide input of layer l's adapter on
    /// `target`, rows spread over the workers. u[k] is entry k's 16-bit uniform (dropped when
    /// below `threshold`): the row's own stream, four from each 64-bit hash.
    private func forEachRow(rows: Int, dim: Int, layer l: Int, target: LoRAConfig.Target,
                            _ body: (Int, UnsafePointer<UInt16>) -> Void) {
        let seed = rowSeed(layer: l, target: target), words = (dim + 3) / 4
        Parallel.forEach(rows, minPerWorker: 64) { i in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { w in
                var state = Self.mix(seed ^ UInt64(i) &* 0xD1B5_4A32_D192_ED03)
                for j in 0..<words {
                    state &+= 0x9E37_79B9_7F4A_7C15
                    // Little-endian: entry 4j + m is bits 16m..<16m+16 of word j.
                    w[j] = Self.mix(state)
                }
                body(i, UnsafeRawPointer(w.baseAddress!).assumingMemoryBound(to: UInt16.self))
            }
        }
    }

    private func rowSeed(layer l: Int, target: LoRAConfig.Target) -> UInt64 {
        let t = UInt64(LoRAConfig.Target.allCases.firstIndex(of: target)!)
        return Self.mix(Self.mix(draw ^ 0x6C6F_7261_6472_6F70) ^ (UInt64(l) << 8 | t))
    }

    /// splitmix64's finaliser: a bijection that spreads every input bit over the output.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
