import Foundation
import Testing
@testable import Engine
import TestSupport

/// The value head's forward against float64 arithmetic, its backward against finite differences
/// of Σ r_t·V_t + Σ s·p_t, and its file round trip.
@Suite struct ValueHeadTests {
    static let dim = 6, proj = 5, rows = 7
    /// Each test's head forward and what its backward reads (a new suite instance per test).
    let pass = ValueHead.Pass()

    /// A head whose parameters are all random (biases included), so every term of the backward
    /// is exercised rather than the near-zero output layer of a fresh head.
    static func randomHead(_ kind: ValueHead.Kind, seed: UInt64) -> ValueHead {
        let head = ValueHead(kind: kind, inputDim: dim, projectionDim: proj, seed: seed)
        var rng = RNG(seed: seed, stream: "test-params")
        for i in 0..<head.params.count { head.params.values[i] = rng.normal() * 0.7 }
        return head
    }

    /// V and p computed naively in float64 from the stored parameters.
    static func reference(_ head: ValueHead, hidden: FloatBuffer, positions: [Int]) -> (values: [Double], proj: [[Double]]) {
        let d = head.inputDim, p = head.projectionDim, P = head.params
        func row(_ r: Int) -> [Double] { (0..<d).map { Double(hidden[r * d + $0]) } }
        var values: [Double] = [], projs: [[Double]] = []
        for r in positions {
            let h = row(r)
            switch head.kind {
            case .carft:
                let w1 = P.value("v_head.proj.weight"), b1 = P.value("v_head.proj.bias"), w2 = P.value("v_head.out.weight")
                let pt = (0..<p).map { k in (0..<d).reduce(Double(b1[k])) { $0 + Double(w1[k * d + $1]) * h[$1] } }
                projs.append(pt)
                values.append((0..<p).reduce(Double(P.value("v_head.out.bias")[0])) { $0 + Double(w2[$1]) * Swift.max(pt[$1], 0) })
            case .linear:
                let w = P.value("v_head.out.weight")
                values.append((0..<d).reduce(Double(P.value("v_head.out.bias")[0])) { $0 + Double(w[$1]) * h[$1] })
            }
        }
        return (values, projs)
    }

    /// Positions are unordered, skip rows, and repeat one row: a repeated row must receive the
    /// sum of both contributions.
    @Test(arguments: [(ValueHead.Kind.carft, true), (.carft, false), (.linear, false)])
    func gradients(kind: ValueHead.Kind, withProjectionGradient: Bool) {
        var rng = RNG(seed: 11)
        let head = Self.randomHead(kind, seed: 31)
        let positions = [5, 0, 3, 5, 6]
        let n = positions.count, d = Self.dim, p = head.projectionDim
        let hidden = GradCheck.randomBuffer(Self.rows * d, &rng)
        let r = GradCheck.randomBuffer(n, &rng)
        let s = withProjectionGradient ? GradCheck.randomBuffer(n * p, &rng) : nil

        func loss() -> Double {
            let v = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
            var l = 0.0
            for i in 0..<n { l += Double(v[i]) * Double(r[i]) }
            if let s { l += GradCheck.weightedSum(pass.projections!, s) }
            return l
        }
        _ = loss()
        // A p_t within finite-difference reach of the ReLU kink would make the check meaningless.
        if kind == .carft {
            let minAbs = (0..<(n * p)).map { abs(pass.projections![$0]) }.min()!
            #expect(minAbs > 0.05, "seed puts a projection at \(minAbs), too near the ReLU kink to check")
        }

        // dHidden starts nonzero: backward must add into it and leave unused rows alone.
        let prior = GradCheck.randomBuffer(hidden.count, &rng)
        let dHidden = FloatBuffer(hidden.count); dHidden.copy(from: prior)
        head.params.zeroGrad()
        head.backward(pass, dValues: r.array, dProjections: s.map { UnsafePointer($0.ptr) }, dHidden: dHidden.ptr)
        for row in 0..<Self.rows where !positions.contains(row) {
            for j in 0..<d { #expect(dHidden[row * d + j] == prior[row * d + j]) }
        }
        let dh = FloatBuffer(hidden.count)
        for i in 0..<hidden.count { dh[i] = dHidden[i] - prior[i] }

        for e in head.params.entries {
            GradCheck.check("\(kind).\(e.name)", x: head.params.values.ptr + e.offset, count: e.count,
                            analytic: head.params.grads.ptr + e.offset, loss: loss)
        }
        GradCheck.check("\(kind).hidden", x: hidden.ptr, count: hidden.count, analytic: dh.ptr, loss: loss)
    }

    @Test(arguments: ValueHead.Kind.allCases) func forwardMatchesFloat64(kind: ValueHead.Kind) {
        var rng = RNG(seed: 12)
        let head = Self.randomHead(kind, seed: 22)
        let hidden = GradCheck.randomBuffer(Self.rows * Self.dim, &rng)
        let positions = [2, 6, 1]
        let v = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
        let ref = Self.reference(head, hidden: hidden, positions: positions)
        #expect(v.count == positions.count)
        for i in 0..<v.count { #expect(abs(Double(v[i]) - ref.values[i]) < 1e-5) }
        #expect(head.forward(hidden: hidden.ptr, positions: [], into: pass) == [])
    }

    @Test func projectionsArePreReLU() {
        var rng = RNG(seed: 13)
        let head = Self.randomHead(.carft, seed: 23)
        let hidden = GradCheck.randomBuffer(Self.rows * Self.dim, &rng)
        #expect(pass.projections == nil)
        let positions = [4, 0, 2, 6]
        _ = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
        let ref = Self.reference(head, hidden: hidden, positions: positions).proj
        let pr = pass.projections!
        var negatives = 0
        for i in 0..<positions.count {
            for k in 0..<Self.proj {
                #expect(abs(Double(pr[i * Self.proj + k]) - ref[i][k]) < 1e-5)
                if ref[i][k] < 0 { negatives += 1 }
            }
        }
        #expect(negatives > 0, "the check must include negative p_t to show they are kept before the ReLU")

        let linear = Self.randomHead(.linear, seed: 23)
        _ = linear.forward(hidden: hidden.ptr, positions: positions, into: pass)
        #expect(pass.projections == nil)
    }

    /// A unit held negative by its bias passes no gradient: not to w2, b1, its W1 row, nor h.
    @Test func reluMasksNegativeProjections() {
        var rng = RNG(seed: 14)
        let d = Self.dim, p = Self.proj
        let head = Self.randomHead(.carft, seed: 24)
        let dead = 1, live = 3
        head.params.value("v_head.proj.bias")[dead] = -100
        head.params.value("v_head.proj.bias")[live] = 100
        let hidden = GradCheck.randomBuffer(Self.rows * d, &rng)
        let positions = [0, 1, 2, 3]
        _ = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
        head.params.zeroGrad()
        let dHidden = FloatBuffer(hidden.count)
        head.backward(pass, dValues: [1, -2, 0.5, 3], dHidden: dHidden.ptr)
        let g = head.params
        #expect(g.grad("v_head.out.weight")[dead] == 0)
        #expect(g.grad("v_head.proj.bias")[dead] == 0)
        for j in 0..<d { #expect(g.grad("v_head.proj.weight")[dead * d + j] == 0) }
        #expect(g.grad("v_head.out.weight")[live] != 0)
        #expect(g.grad("v_head.proj.bias")[live] != 0)

        // With only the dead unit able to carry gradient to h, h receives none.
        let w2 = g.value("v_head.out.weight")
        for k in 0..<p where k != dead { w2[k] = 0 }
        _ = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
        dHidden.zero()
        head.backward(pass, dValues: [1, -2, 0.5, 3], dHidden: dHidden.ptr)
        #expect(dHidden.array.allSatisfy { $0 == 0 })
    }

    @Test(arguments: ValueHead.Kind.allCases) func gradientsAccumulate(kind: ValueHead.Kind) {
        var rng = RNG(seed: 15)
        let head = Self.randomHead(kind, seed: 25)
        let hidden = GradCheck.randomBuffer(Self.rows * Self.dim, &rng)
        let positions = [1, 5, 2]
        let dv: [Float] = [0.3, -1.1, 2]
        let s = kind == .carft ? GradCheck.randomBuffer(positions.count * Self.proj, &rng) : nil
        _ = head.forward(hidden: hidden.ptr, positions: positions, into: pass)
        head.params.zeroGrad()
        let dh = FloatBuffer(hidden.count)
        head.backward(pass, dValues: dv, dProjections: s.map { UnsafePointer($0.ptr) }, dHidden: dh.ptr)
        let once = head.params.grads.array, dhOnce = dh.array
        #expect(once.contains { $0 != 0 })
        head.backward(pass, dValues: dv, dProjections: s.map { UnsafePointer($0.ptr) }, dHidden: dh.ptr)
        for (a, b) in zip(head.params.grads.array, once) { #expect(abs(a - 2 * b) <= 1e-6 * abs(b)) }
        for (a, b) in zip(dh.array, dhOnce) { #expect(abs(a - 2 * b) <= 1e-6 * abs(b)) }
    }

    @Test(arguments: ValueHead.Kind.allCases) func freshHeadStartsNearZero(kind: ValueHead.Kind) {
        var rng = RNG(seed: 16)
        let d = 32
        let head = ValueHead(kind: kind, inputDim: d, seed: 3)
        let expected: [(String, [Int])] = kind == .carft
            ? [("v_head.proj.weight", [64, d]), ("v_head.proj.bias", [64]), ("v_head.out.weight", [1, 64]), ("v_head.out.bias", [1])]
            : [("v_head.out.weight", [1, d]), ("v_head.out.bias", [1])]
        #expect(head.params.entries.map(\.name) == expected.map(\.0))
        #expect(head.params.entries.map(\.shape) == expected.map(\.1))
        for e in head.params.entries where e.shape.count == 1 {
            #expect((0..<e.count).allSatisfy { head.params.value(e.name)[$0] == 0 })
        }
        let hidden = GradCheck.randomBuffer(10 * d, &rng)
        let v = head.forward(hidden: hidden.ptr, positions: Array(0..<10), into: pass)
        let rms = (v.map { Double($0 * $0) }.reduce(0, +) / Double(v.count)).squareRoot()
        #expect(rms > 0.01 && rms < 0.5, "initial values should be small but not all zero, got rms \(rms)")
        // Same seed, same head.
        #expect(ValueHead(kind: kind, inputDim: d, seed: 3).params.values.array == head.params.values.array)
    }

    // MARK: files

    static func loadError(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as CheckpointError { return e.description } catch { return "other: \(error)" }
        return nil
    }

    @Test(arguments: ValueHead.Kind.allCases) func saveLoadRoundTripIsBitIdentical(kind: ValueHead.Kind) throws {
        var rng = RNG(seed: 17)
        let dir = try makeTempDir("vhead") + "/step-3"
        let head = Self.randomHead(kind, seed: 27)
        try head.save(to: dir)
        let loaded = try ValueHead.load(from: dir, kind: kind, inputDim: Self.dim)
        #expect(loaded.kind == kind && loaded.inputDim == Self.dim && loaded.projectionDim == head.projectionDim)
        #expect(loaded.params.entries.map(\.name) == head.params.entries.map(\.name))
        #expect(loaded.params.values.array.map(\.bitPattern) == head.params.values.array.map(\.bitPattern))
        let hidden = GradCheck.randomBuffer(Self.rows * Self.dim, &rng)
        #expect(loaded.forward(hidden: hidden.ptr, positions: [1, 4], into: pass) == head.forward(hidden: hidden.ptr, positions: [1, 4], into: pass))
        let meta = try Safetensors.read(from: dir + "/value_head.safetensors").metadata
        #expect(meta["kind"] == kind.rawValue)
        #expect(meta["projection_dim"] == (kind == .carft ? String(Self.proj) : nil))
    }

    @Test func loadErrorsNameTheFileAndTheProblem() throws {
        let dir = try makeTempDir("vhead-errors")
        let path = dir + "/value_head.safetensors"

        let missing = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(missing?.contains(path) == true && missing?.contains("was a value head saved") == true, "\(missing ?? "no error")")

        try Self.randomHead(.carft, seed: 1).save(to: dir)
        let wrongKind = Self.loadError { _ = try ValueHead.load(from: dir, kind: .linear) }
        #expect(wrongKind?.contains(path) == true && wrongKind?.contains("holds a carft value head but this run uses linear") == true, "\(wrongKind ?? "no error")")
        let wrongDim = Self.loadError { _ = try ValueHead.load(from: dir, inputDim: 8) }
        #expect(wrongDim?.contains("size 6 but the model's hidden size is 8") == true, "\(wrongDim ?? "no error")")

        func write(_ tensors: [String: [Int]], _ metadata: [String: String]) throws {
            try Safetensors.write(tensors.mapValues { TensorData(shape: $0, values: [Float](repeating: 0, count: $0.reduce(1, *))) },
                                  metadata: metadata, to: path)
        }
        let carft: [String: [Int]] = ["v_head.proj.weight": [5, 6], "v_head.proj.bias": [5], "v_head.out.weight": [1, 5], "v_head.out.bias": [1]]
        let carftMeta = ["kind": "carft", "projection_dim": "5"]

        var badBias = carft; badBias["v_head.proj.bias"] = [4]
        try write(badBias, carftMeta)
        let shape = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(shape?.contains(path) == true && shape?.contains("\"v_head.proj.bias\" has shape [4]") == true && shape?.contains("needs [5]") == true, "\(shape ?? "no error")")

        try write(carft, ["kind": "carft", "projection_dim": "64"])
        let projDim = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(projDim?.contains("\"v_head.proj.weight\" has shape [5, 6]") == true, "\(projDim ?? "no error")")

        try write(carft, ["kind": "mystery"])
        let unknown = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(unknown?.contains(path) == true && unknown?.contains("kind \"mystery\" is not one of carft, linear") == true, "\(unknown ?? "no error")")

        try write(carft, [:])
        let noKind = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(noKind?.contains("metadata has no \"kind\"") == true, "\(noKind ?? "no error")")

        // A carft file relabelled linear: the projection tensors do not belong.
        var relabelled = carft; relabelled["v_head.out.weight"] = [1, 6]
        try write(relabelled, ["kind": "linear"])
        let extra = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(extra?.contains("\"v_head.proj.weight\" is not part of a linear value head") == true, "\(extra ?? "no error")")

        var noOut = carft; noOut["v_head.out.bias"] = nil
        try write(noOut, carftMeta)
        let absent = Self.loadError { _ = try ValueHead.load(from: dir) }
        #expect(absent?.contains("\"v_head.out.bias\" [1] is missing") == true, "\(absent ?? "no error")")
    }
}
