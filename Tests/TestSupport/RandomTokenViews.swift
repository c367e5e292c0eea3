import Engine

/// A random contrastive `select` input: rollout and annotated rows sharing a prompt, with CoTs
/// drawn from a small vocabulary (so LCSs are long and ties frequent), padded to T.
public struct RandomTokenViews {
    public var batch: Int, tr: Int, ta: Int
    public var rIDs: [Int32], aIDs: [Int32], rPresent: [UInt8], aPresent: [UInt8], rCoT: [UInt8], aCoT: [UInt8]

    /// Each row's length is drawn from `minLength...T` (`padded`) or is T; the first `prompt`
    /// tokens are the shared prompt with ids from `promptIDs`, the rest CoT with ids from `cotIDs`.
    public init(_ rng: inout RNG, batch: Int, tr: Int, ta: Int, padded: Bool = true, prompt: Int,
                minLength: Int? = nil, promptIDs: ClosedRange<Int>, cotIDs: ClosedRange<Int>) {
        (self.batch, self.tr, self.ta) = (batch, tr, ta)
        rIDs = Array(repeating: 0, count: batch * tr); aIDs = Array(repeating: 0, count: batch * ta)
        rPresent = Array(repeating: 0, count: batch * tr); aPresent = Array(repeating: 0, count: batch * ta)
        rCoT = rPresent; aCoT = aPresent
        let shortest = minLength ?? prompt + 1
        for b in 0..<batch {
            let rl = padded ? rng.int(in: shortest...tr) : tr, al = padded ? rng.int(in: shortest...ta) : ta
            for t in 0..<prompt { let id = Int32(rng.int(in: promptIDs)); rIDs[b * tr + t] = id; aIDs[b * ta + t] = id }
            for t in prompt..<rl { rIDs[b * tr + t] = Int32(rng.int(in: cotIDs)); rCoT[b * tr + t] = 1 }
            for t in prompt..<al { aIDs[b * ta + t] = Int32(rng.int(in: cotIDs)); aCoT[b * ta + t] = 1 }
            for t in 0..<rl { rPresent[b * tr + t] = 1 }
            for t in 0..<al { aPresent[b * ta + t] = 1 }
        }
    }

    /// The plugin's masks for these rows; entries it leaves unwritten keep `fill`.
    public func select(_ loss: PluginContrastiveLoss, fill: UInt8 = 0) throws -> [[UInt8]] {
        try rIDs.withUnsafeBufferPointer { ri in try aIDs.withUnsafeBufferPointer { ai in
            try rPresent.withUnsafeBufferPointer { rp in try aPresent.withUnsafeBufferPointer { ap in
                try rCoT.withUnsafeBufferPointer { rc in try aCoT.withUnsafeBufferPointer { ac in
                    try loss.select(TokenViewsInput(batch: batch, rolloutTokens: tr, annotatedTokens: ta,
                                                    rolloutIDs: ri.baseAddress!, rolloutPresent: rp.baseAddress!, rolloutCoT: rc.baseAddress!,
                                                    annotatedIDs: ai.baseAddress!, annotatedPresent: ap.baseAddress!, annotatedCoT: ac.baseAddress!),
                                    fill: fill)
                } }
            } }
        } }
    }
}
