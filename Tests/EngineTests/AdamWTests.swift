import Foundation
import Testing
@testable import Engine

/// PyTorch's AdamW written independently in Double, to check the Float kernel against.
private struct ReferenceAdamW {
    var p: [Double], m: [Double], v: [Double]
    /// m's recurrence over |g|: the scale against which m's rounding error is measured, since
    /// m itself can cancel to nearly zero.
    var mScale: [Double]
    let decays: [Bool]
    var t = 0
    let b1: Double, b2: Double, eps: Double, wd: Double

    mutating func step(grads: [Float], lr: Double) {
        t += 1
        for i in p.indices {
            let g = Double(grads[i])
            if decays[i] { p[i] -= lr * wd * p[i] }
            m[i] = b1 * m[i] + (1 - b1) * g
            mScale[i] = b1 * mScale[i] + (1 - b1) * abs(g)
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let mHat = m[i] / (1 - pow(b1, Double(t)))
            let vHat = v[i] / (1 - pow(b2, Double(t)))
            p[i] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
}

private let layout: [(String, [Int])] = [("w", [3, 4]), ("gain", [4]), ("cube", [2, 2, 3]), ("bias", [5])]

private func compare(layout: [(String, [Int])], weightDecay: Double, steps: Int, seed: UInt64) {
    let store = ParameterStore(layout: layout)
    var rng = RNG(seed: seed, stream: "adamw")
    for i in 0..<store.count { store.values[i] = rng.normal() }
    var decays = [Bool](repeating: false, count: store.count)
    for e in store.entries { for i in e.offset..<(e.offset + e.count) { decays[i] = e.decays } }
    var ref = ReferenceAdamW(p: store.values.array.map(Double.init), m: .init(repeating: 0, count: store.count),
                             v: .init(repeating: 0, count: store.count), mScale: .init(repeating: 0, count: store.count),
                             decays: decays,
                             b1: 0.9, b2: 0.999, eps: 1e-8, wd: weightDecay)
    let opt = AdamW(store: store, weightDecay: weightDecay)
    for s in 0..<steps {
        // Mixed magnitudes, including exact zeros, so eps and the sign of m both matter.
        for i in 0..<store.count { store.grads[i] = i % 7 == 0 ? 0 : rng.normal() * (i % 2 == 0 ? 1e-3 : 1) }
        let lr: Float = 1e-2 * Float(s + 1)
        ref.step(grads: store.grads.array, lr: Double(lr))
        opt.step(lr: lr)
    }
    #expect(opt.t == steps)
    // Float rounding only: relative to max(1, |p|) for weights, to the moments' scale for m and v.
    var worstP = 0.0, worstMoments = 0.0
    for i in 0..<store.count {
        worstP = max(worstP, abs(Double(store.values[i]) - ref.p[i]) / max(1, abs(ref.p[i])))
        worstMoments = max(worstMoments, abs(Double(opt.m[i]) - ref.m[i]) / max(1e-12, ref.mScale[i]),
                           abs(Double(opt.v[i]) - ref.v[i]) / max(1e-12, abs(ref.v[i])))
    }
    #expect(worstP < 2e-6, "worst weight error \(worstP)")
    #expect(worstMoments < 2e-6, "worst moment error \(worstMoments)")
}

@Test func adamWOneStepMatchesReference() {
    compare(layout: layout, weightDecay: 0, steps: 1, seed: 1)
    compare(layout: layout, weightDecay: 0.1, steps: 1, seed: 2)
}

@Test func adamWSeveralStepsMatchReference() {
    compare(layout: layout, weightDecay: 0, steps: 20, seed: 3)
    compare(layout: layout, weightDecay: 0.1, steps: 20, seed: 4)
}

@Test func adamWLargeStoreSpansChunksCorrectly() {
    // Bigger than one work span, with decay flags changing inside and across spans.
    compare(layout: [("a", [300, 300]), ("n1", [70_000]), ("b", [7, 11]), ("n2", [3])],
            weightDecay: 0.05, steps: 3, seed: 5)
}

@Test func adamWDecayOnlyTouchesMatrices() {
    let store = ParameterStore(layout: layout)
    for i in 0..<store.count { store.values[i] = 2 }
    let opt = AdamW(store: store, weightDecay: 0.5)
    opt.step(lr: 0.1)  // zero gradients: only decay can move the weights
    for e in store.entries {
        let expected: Float = e.decays ? 2 * (1 - 0.1 * 0.5) : 2
        for i in e.offset..<(e.offset + e.count) { #expect(store.values[i] == expected, "\(e.name)") }
    }
}

@Test func gradNormAndClipping() {
    let store = ParameterStore(layout: [("a", [2]), ("b", [1, 1]), ("c", [0])])
    store.grads[0] = 3; store.grads[1] = 4; store.grads[2] = 12
    #expect(globalGradNorm(store) == 13)
    #expect(clipGradients(store, maxNorm: 20) == 13)
    #expect(store.grads.array == [3, 4, 12])  // under the limit: untouched
    #expect(clipGradients(store, maxNorm: 6.5) == 13)
    #expect(store.grads.array == [1.5, 2, 6])
    #expect(globalGradNorm(store) == 6.5)

    store.grads[1] = .nan
    #expect(clipGradients(store, maxNorm: 1).isNaN)
    #expect(store.grads[0] == 1.5)  // a NaN norm leaves gradients for the caller to inspect
    #expect(globalGradNorm(ParameterStore(layout: [])) == 0)
}

@Test func gradNormOfLargeStoreMatchesDoubleSum() {
    let store = ParameterStore(layout: [("a", [400, 400]), ("b", [12345])])
    var rng = RNG(seed: 9, stream: "norm")
    var sum = 0.0
    for i in 0..<store.count {
        store.grads[i] = rng.normal()
        sum += Double(store.grads[i]) * Double(store.grads[i])
    }
    #expect(globalGradNorm(store) == Float(sum.squareRoot()))
}
