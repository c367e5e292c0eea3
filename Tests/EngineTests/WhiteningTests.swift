import Testing
@testable import Engine

@Test func whitenHandExampleUsesUnbiasedVariance() {
    // Mean 2; unbiased variance (1 + 0 + 1) / 2 = 1, so values only shift. The biased
    // variance (2/3) would scale them by 1.22 instead.
    let w = whiten([[1, 2], [3]])
    #expect(w.count == 2 && w[0].count == 2 && w[1].count == 1)
    #expect(RLCheck.near(w[0], [-1, 0], 1e-7) && RLCheck.near(w[1], [1], 1e-7))
}

@Test func whitenMatchesFloat64ReferenceOverAllTokens() {
    var rng = RNG(seed: 3, stream: "whiten")
    // Ragged lengths, an empty sequence, and an offset far from zero.
    let seqs = [5, 0, 1, 40, 13].map { RLCheck.normals($0, &rng, scale: 2, shift: 30) }
    let flat = seqs.flatMap { $0 }.map(Double.init)
    let n = Double(flat.count)
    let mean = flat.reduce(0, +) / n
    let variance = flat.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    let scale = 1 / (variance + 1e-8).squareRoot()

    let w = whiten(seqs)
    #expect(w.map(\.count) == seqs.map(\.count))
    for (got, s) in zip(w, seqs) {
        #expect(RLCheck.near(got, s.map { (Double($0) - mean) * scale }, 1e-5))
    }
    let out = w.flatMap { $0 }.map(Double.init)
    let outMean = out.reduce(0, +) / n
    let outVar = out.reduce(0) { $0 + ($1 - outMean) * ($1 - outMean) } / (n - 1)
    #expect(abs(outMean) < 1e-6)
    #expect(abs(outVar - 1) < 1e-5)

    // Without the shift the mean comes back and only the spread is normalised.
    let kept = whiten(seqs, shiftMean: false)
    for (got, s) in zip(kept, seqs) {
        #expect(RLCheck.near(got, s.map { (Double($0) - mean) * scale + mean }, 1e-6))
    }
}

@Test func whitenDegenerateInputs() {
    #expect(whiten([]) == [])
    #expect(whiten([[], []]) == [[], []])
    // One token: no spread to measure, so it whitens to 0 rather than trapping.
    #expect(whiten([[4.5]]) == [[0]])
    #expect(whiten([[], [4.5]], shiftMean: false) == [[], [4.5]])
}
