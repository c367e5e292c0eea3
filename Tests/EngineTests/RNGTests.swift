import Testing
@testable import Engine

@Test func rngIsDeterministicAndStreamsDiffer() {
    var a = RNG(seed: 42), b = RNG(seed: 42)
    let xa = (0..<5).map { _ in a.next() }, xb = (0..<5).map { _ in b.next() }
    #expect(xa == xb)
    var c = RNG(seed: 42, stream: "init"), d = RNG(seed: 42, stream: "data")
    #expect(c.next() != d.next())
}

@Test func rngUniformAndNormalMoments() {
    var r = RNG(seed: 7)
    let n = 200_000
    var s = 0.0, s2 = 0.0, u = 0.0
    for _ in 0..<n {
        let x = Double(r.normal()); s += x; s2 += x * x
        let v = Double(r.uniform()); #expect(v >= 0 && v < 1); u += v
    }
    #expect(abs(s / Double(n)) < 0.01)
    #expect(abs(s2 / Double(n) - 1) < 0.02)
    #expect(abs(u / Double(n) - 0.5) < 0.005)
}
