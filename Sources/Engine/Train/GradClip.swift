/// The L2 norm of all gradients together.
public func globalGradNorm(_ store: ParameterStore) -> Float {
    Float(l2Norm(store.grads.ptr, store.count))
}

/// The L2 norm of `n` floats. Sums run in Double over fixed-size blocks whose partial sums are
/// added in block order, so the result is the same for any worker count.
public func l2Norm(_ g: UnsafePointer<Float>, _ n: Int) -> Double {
    let block = 1 << 16
    let blocks = (n + block - 1) / block
    if blocks == 0 { return 0 }
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: blocks)
    defer { partial.deallocate() }
    Parallel.forEach(blocks) { b in
        // Four accumulators let the loop pipeline; their order is fixed, so still deterministic.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        let lo = b * block, hi = min(n, lo + block)
        var i = lo
        while i + 4 <= hi {
            let a = Double(g[i]), b = Double(g[i + 1]), c = Double(g[i + 2]), d = Double(g[i + 3])
            s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
            i += 4
        }
        while i < hi { let a = Double(g[i]); s0 += a * a; i += 1 }
        partial[b] = (s0 + s1) + (s2 + s3)
    }
    var total = 0.0
    for b in 0..<blocks { total += partial[b] }
    return total.squareRoot()
}

/// Scales all gradients so their global norm is at most `maxNorm`, and returns the norm before
/// clipping. A non-finite norm leaves the gradients untouched: scaling would only spread the
/// NaN, and the caller should skip the step after seeing it.
@discardableResult
public func clipGradients(_ store: ParameterStore, maxNorm: Float) -> Float {
    let norm = globalGradNorm(store)
    guard norm.isFinite, norm > maxNorm else { return norm }
    let scale = Float(Double(maxNorm) / Double(norm))
    let g = store.grads.ptr, n = store.count, block = 1 << 16
    Parallel.forEach((n + block - 1) / block) { b in
        for i in (b * block)..<min(n, (b + 1) * block) { g[i] *= scale }
    }
    return norm
}
