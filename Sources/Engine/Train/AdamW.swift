import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter), matching PyTorch's `AdamW` update:
/// p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
/// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
/// Decay applies only to entries whose `decays` is true (matrices), not to norm gains.
public final class AdamW {
    public let store: ParameterStore
    /// Hyperparameters are Double, as in PyTorch, so 1 − β2 is 0.001 and not the 0.00099998713
    /// that Float(0.999) would give; they are rounded to Float only where the kernel uses them.
    public var beta1: Double
    public var beta2: Double
    public var eps: Double
    public var weightDecay: Double
    /// First and second moments, laid out like `store.values`.
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Steps taken so far; the next step's bias correction uses t + 1.
    public private(set) var t = 0

    /// Pieces of the flat buffer that share one decay setting and are small enough to spread
    /// over workers. Fixed at init, so the work split never depends on the values.
    private struct Span { let lo: Int, hi: Int, decays: Bool }
    private let spans: [Span]
    static let spanSize = 1 << 16

    public init(store: ParameterStore, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                weightDecay: Double = 0) {
        self.store = store
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = FloatBuffer(store.count)
        v = FloatBuffer(store.count)
        var spans: [Span] = []
        for e in store.entries {
            var lo = e.offset
            let end = e.offset + e.count
            // Merge with the previous span when the decay setting agrees, so many small tensors
            // do not each become a dispatch.
            if let last = spans.last, last.decays == e.decays, last.hi == lo, last.hi - last.lo < Self.spanSize {
                let hi = min(end, last.lo + Self.spanSize)
                spans[spans.count - 1] = Span(lo: last.lo, hi: hi, decays: last.decays)
                lo = hi
            }
            while lo < end {
                let hi = min(end, lo + Self.spanSize)
                spans.append(Span(lo: lo, hi: hi, decays: e.decays))
                lo = hi
            }
        }
        self.spans = spans
    }

    /// Continues from a saved state: moments laid out like `store.values`, and the steps taken.
    public func restore(m m0: [Float], v v0: [Float], t t0: Int) {
        m.ptr.update(from: m0, count: m.count)
        v.ptr.update(from: v0, count: v.count)
        t = t0
    }

    public func step(lr: Float) {
        t += 1
        // Bias corrections in Double: β2ᵗ stays close to 1 for thousands of steps, where Float
        // would lose most of the digits of 1 − β2ᵗ.
        let bc1 = 1 - pow(beta1, Double(t))
        let bc2 = 1 - pow(beta2, Double(t))
        let stepSize = Float(Double(lr) / bc1)
        let sqrtBc2 = Float(bc2.squareRoot())
        let decayFactor = Float(1 - Double(lr) * weightDecay)
        let b1 = Float(beta1), c1 = Float(1 - beta1), b2 = Float(beta2), c2 = Float(1 - beta2), eps = Float(eps)
        let p = store.values.ptr, g = store.grads.ptr, m = m.ptr, v = v.ptr
        spans.withUnsafeBufferPointer { spans in
            Parallel.forEach(spans.count) { s in
                let span = spans[s]
                let keep = span.decays ? decayFactor : 1
                for i in span.lo..<span.hi {
                    let gi = g[i]
                    let mi = b1 * m[i] + c1 * gi
                    let vi = b2 * v[i] + c2 * gi * gi
                    m[i] = mi
                    v[i] = vi
                    p[i] = p[i] * keep - stepSize * mi / (vi.squareRoot() / sqrtBc2 + eps)
                }
            }
        }
    }
}
