import Foundation

/// How RL rollouts draw their tokens. The seed is part of the options so a rollout can be
/// replayed from its config alone.
public struct SamplingOptions: Codable, Equatable, Sendable {
    /// Logits are divided by this; 0 means greedy (argmax).
    public var temperature: Float
    /// Keep only the k most probable tokens; 0 turns the filter off.
    public var topK: Int
    /// Keep the smallest most-probable set whose mass reaches p; 1 turns the filter off.
    public var topP: Float
    public var maxNewTokens: Int
    /// The stop token cannot be drawn before a row has this many new tokens (its logit is
    /// masked, as transformers' `min_new_tokens` does): 0 by default. Benchmarks set it to
    /// `maxNewTokens` so every row makes the same number of tokens in every engine.
    public var minNewTokens = 0
    public var stopToken: Int
    public var seed: UInt64

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1,
                maxNewTokens: Int, minNewTokens: Int = 0, stopToken: Int, seed: UInt64) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.maxNewTokens = maxNewTokens
        self.minNewTokens = minNewTokens
        self.stopToken = stopToken
        self.seed = seed
    }

    /// The filter knobs may be left out of a config file; omitting them means plain sampling.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? 1
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? 0
        topP = try c.decodeIfPresent(Float.self, forKey: .topP) ?? 1
        maxNewTokens = try c.decode(Int.self, forKey: .maxNewTokens)
        minNewTokens = try c.decodeIfPresent(Int.self, forKey: .minNewTokens) ?? 0
        stopToken = try c.decode(Int.self, forKey: .stopToken)
        seed = try c.decode(UInt64.self, forKey: .seed)
    }
}

/// Draws one token from a row of logits with temperature, top-k and top-p, and reports the
/// token's log-probability under the temperature-scaled distribution *before* truncation:
/// that is the behaviour policy PPO's importance ratio divides by, and with temperature 1 it
/// equals the training head's log-softmax. Ties in probability go to the lower token id, so a
/// draw depends only on the logits and the RNG.
public struct Sampler {
    public let temperature: Float
    public let topK: Int
    public let topP: Float
    /// exp(scaled logit − max) per token, reused across calls so a 49k vocabulary does not
    /// allocate per step.
    private var weights: [Float] = []
    /// Token ids arranged as a max-heap by probability; popped tokens collect at the end.
    private var heap: [Int32] = []

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1) {
        precondition(temperature >= 0 && temperature.isFinite, "temperature \(temperature) must be finite and ≥ 0")
        precondition(topK >= 0, "topK \(topK) must be ≥ 0 (0 turns it off)")
        precondition(topP >= 0 && topP <= 1, "topP \(topP) must be within 0...1 (1 turns it off)")
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public init(options: SamplingOptions) {
        self.init(temperature: options.temperature, topK: options.topK, topP: options.topP)
    }

    /// Argmax (lowest id among equals) and its log-softmax under the unscaled logits.
    /// `logits` is overwritten (with exp(logit − max)).
    public static func greedy(_ logits: UnsafeMutablePointer<Float>, vocab v: Int) -> (token: Int32, logProb: Float) {
        var best = 0
        for j in 1..<v where logits[j] > logits[best] { best = j }
        // The winner is the maximum, so its log-softmax is −log Σ exp(logit − max).
        let s = VectorMath.expShiftSum(logits, v, shift: logits[best])
        return (Int32(best), -Float(Foundation.log(Double(s))))
    }

    /// One draw from `logits` (overwritten with the temperature-scaled logits).
    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, vocab v: Int,
                                rng: inout RNG) -> (token: Int32, logProb: Float) {
        precondition(v > 0, "sampling from an empty vocabulary")
        if temperature == 0 { return Self.greedy(logits, vocab: v) }
        if temperature != 1 { for j in 0..<v { logits[j] /= temperature } }
        let k = topK > 0 && topK < v ? topK : v
        let truncated = k < v || topP < 1
        if weights.count < v { weights = [Float](repeating: 0, count: v) }
        if truncated && heap.count < v { heap = [Int32](repeating: 0, count: v) }
        let mx = VectorMath.max(logits, v), p = topP
        let (token, total) = weights.withUnsafeMutableBufferPointer { wb in
            heap.withUnsafeMutableBufferPointer { hb in
                let w = wb.baseAddress!
                w.update(from: logits, count: v)
                let total = VectorMath.expShiftSum(w, v, shift: mx)
                let token = truncated
                    ? Self.drawFromNucleus(logits, w, hb.baseAddress!, v, keep: k, topP: p, total: total, rng: &rng)
                    : Self.drawInIdOrder(w, v, total: total, rng: &rng)
                return (token, total)
            }
        }
        // The same arithmetic as the training head, so at temperature 1 the two agree.
        let logZ = mx + Float(Foundation.log(Double(total)))
        return (Int32(token), logits[token] - logZ)
    }

    /// Inverse CDF over the whole vocabulary. If float rounding leaves the walk just short of
    /// the target, the last token with any mass takes the remainder (a ~1e-7 share).
    private static func drawInIdOrder(_ w: UnsafeMutablePointer<Float>, _ v: Int, total: Float,
                                      rng: inout RNG) -> Int {
        let target = rng.uniformDouble() * Double(total)
        var cum = 0.0, last = 0
        for j in 0..<v where w[j] > 0 {
            cum += Double(w[j])
            last = j
            if cum > target { return j }
        }
        return last
    }

    /// Pops tokens in descending probability until top-k has `keep` of them or their mass
    /// reaches top-p (both measured on the untruncated distribution, so the kept set is the
    /// shorter of the two prefixes), then draws from the kept set renormalised. Heapifying is
    /// O(vocab) and each pop O(log vocab), so only the kept prefix is ever put in order.
    private static func drawFromNucleus(_ logits: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>,
                                        _ h: UnsafeMutablePointer<Int32>, _ v: Int, keep k: Int, topP: Float,
                                        total: Float, rng: inout RNG) -> Int {
        for j in 0..<v { h[j] = Int32(j) }
        // Order by scaled logit rather than weight: exp can map distinct logits to one
        // float, and the logit order is the exact probability order.
        @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
            let la = logits[Int(a)], lb = logits[Int(b)]
            return la > lb || (la == lb && a < b)
        }
        @inline(__always) func siftDown(_ start: Int, _ size: Int) {
            var i = start
            let x = h[i]
            while true {
                var c = 2 * i + 1
                if c >= size { break }
                if c + 1 < size && before(h[c + 1], h[c]) { c += 1 }
                if !before(h[c], x) { break }
                h[i] = h[c]
                i = c
            }
            h[i] = x
        }
        var i = v / 2 - 1
        while i >= 0 { siftDown(i, v); i -= 1 }
        let goal = topP < 1 ? Double(topP) * Double(total) : .infinity
        var size = v, mass = 0.0
        repeat {
            size -= 1
            let top = h[0]
            h[0] = h[size]
            h[size] = top
            siftDown(0, size)
            mass += Double(w[Int(top)])
        } while v - size < k && mass < goal
        // Kept tokens sit at h[v-1] (most probable) down to h[size]. The walk sums the
        // same weights in the same order as `mass`, so it reaches the target; the fallback
        // only guards against u·mass rounding up to mass.
        let target = rng.uniformDouble() * mass
        var cum = 0.0, last = Int(h[v - 1])
        for j in stride(from: v - 1, through: size, by: -1) where w[Int(h[j])] > 0 {
            cum += Double(w[Int(h[j])])
            last = Int(h[j])
            if cum > target { return last }
        }
        return last
    }
}
