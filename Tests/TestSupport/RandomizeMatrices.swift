import Engine

extension Transformer {
    /// Redraws every matrix as N(0, scale²) from `RNG(seed:)`, so small test models have
    /// weights large enough that every layer shapes the output (the 0.02 init barely does).
    public func randomizeMatrices(seed: UInt64, scale: Float) {
        var rng = RNG(seed: seed)
        for e in params.entries where e.shape.count == 2 {
            for i in 0..<e.count { params.values[e.offset + i] = rng.normal() * scale }
        }
    }
}
