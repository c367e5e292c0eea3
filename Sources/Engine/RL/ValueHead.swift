import Foundation

/// The critic of PPO: a small network reading the policy's final hidden state h_t (after the
/// last norm) at chosen positions and giving one value per position.
///
/// - carft: `p_t = W1 h_t + b1`, `V_t = w2 · ReLU(p_t) + b2`, as in the CARFT reference code.
///   The pre-ReLU p_t doubles as the token embedding CARFT's contrastive loss pools, so a
///   forward keeps it (`Pass.projections`) and `backward` takes its own upstream gradient.
/// - linear: `V_t = w · h_t + b`, the plain head of ReFT-style PPO.
///
/// The head owns its parameters in a separate store so the policy's checkpoints stay loadable
/// by `transformers`, and so the value head can be optimised or frozen on its own.
public final class ValueHead {
    public enum Kind: String, Codable, Sendable, CaseIterable { case carft, linear }

    public static let fileName = "value_head.safetensors"

    public let kind: Kind
    public let inputDim: Int
    /// Width of p_t; 0 for the linear kind, which has no projection.
    public let projectionDim: Int
    public let params: ParameterStore

    static func layout(kind: Kind, inputDim: Int, projectionDim: Int) -> [(String, [Int])] {
        switch kind {
        case .carft:
            return [("v_head.proj.weight", [projectionDim, inputDim]), ("v_head.proj.bias", [projectionDim]),
                    ("v_head.out.weight", [1, projectionDim]), ("v_head.out.bias", [1])]
        case .linear:
            return [("v_head.out.weight", [1, inputDim]), ("v_head.out.bias", [1])]
        }
    }

    /// Weights N(0, 1/√fan_in) keep p_t at unit scale whatever the hidden size; the output layer
    /// is scaled by a further 0.1 so initial values start near 0 and the first PPO advantages are
    /// dominated by rewards rather than by an arbitrary critic. Biases start at 0.
    public init(kind: Kind, inputDim: Int, projectionDim: Int = 64, seed: UInt64) {
        precondition(inputDim > 0, "ValueHead: inputDim must be positive")
        precondition(kind == .linear || projectionDim > 0, "ValueHead: projectionDim must be positive")
        self.kind = kind
        self.inputDim = inputDim
        self.projectionDim = kind == .carft ? projectionDim : 0
        params = ParameterStore(layout: Self.layout(kind: kind, inputDim: inputDim, projectionDim: self.projectionDim))
        var rng = RNG(seed: seed, stream: "v_head.init")
        for e in params.entries where e.shape.count >= 2 {
            let fanIn = e.shape[1]
            let std = (e.name == "v_head.out.weight" ? 0.1 : 1) / Float(fanIn).squareRoot()
            let p = params.values.ptr + e.offset
            for i in 0..<e.count { p[i] = rng.normal() * std }
        }
    }

    /// What one forward keeps for its backward, owned by the caller: each reader of the head
    /// (PPO's value loss, CARFT's contrastive term) holds its own, so one reader's forward never
    /// invalidates another's projections. Buffers grow to the largest position count seen and
    /// are reused, so a PPO pass does not allocate per mini-batch.
    public final class Pass {
        public internal(set) var positions: [Int] = []
        var projectionDim = 0
        private var capacity = (rows: 0, dim: 0, projection: 0)
        var x = FloatBuffer(0)        // gathered hidden rows [n, D]
        var proj = FloatBuffer(0)     // p = x·W1ᵀ + b1 [n, P]
        var act = FloatBuffer(0)      // ReLU(p) [n, P]
        var dProj = FloatBuffer(0)    // scratch for ∂L/∂p [n, P]
        var dx = FloatBuffer(0)       // scratch for ∂L/∂x [n, D]
        var values = FloatBuffer(0)   // V [n]
        var hasForward = false

        public init() {}

        /// p_t (before the ReLU) at `positions`, [positions.count, projectionDim]; valid until
        /// this pass's next forward. nil for the linear kind and before any forward.
        public var projections: UnsafePointer<Float>? {
            projectionDim > 0 && hasForward ? UnsafePointer(proj.ptr) : nil
        }

        fileprivate func reserve(_ n: Int, dim d: Int, projection p: Int) {
            guard n > capacity.rows || d != capacity.dim || p != capacity.projection else { return }
            let rows = max(n, d == capacity.dim && p == capacity.projection ? capacity.rows : 0)
            x = FloatBuffer(rows * d); dx = FloatBuffer(rows * d)
            proj = FloatBuffer(rows * p); act = FloatBuffer(rows * p); dProj = FloatBuffer(rows * p)
            values = FloatBuffer(rows)
            capacity = (rows, d, p)
        }
    }

    // MARK: forward

    /// Values at `positions`, flat row indices into `hidden` [rows, inputDim] (rows = batch·seq
    /// for `Transformer.hiddenStates`), keeping in `pass` what `backward` needs. Rows are
    /// gathered first so the head's products are one BLAS call over only the positions that
    /// matter (response tokens), not the whole batch.
    public func forward(hidden: UnsafePointer<Float>, positions: [Int], into pass: Pass) -> [Float] {
        let n = positions.count, d = inputDim, p = projectionDim
        pass.reserve(n, dim: d, projection: p)
        pass.positions = positions
        pass.projectionDim = p
        pass.hasForward = true
        let x = pass.x, proj = pass.proj, act = pass.act
        for (i, row) in positions.enumerated() {
            precondition(row >= 0, "ValueHead.forward: negative position \(row)")
            (x.ptr + i * d).update(from: hidden + row * d, count: d)
        }
        if n == 0 { return [] }
        let v = pass.values.ptr
        switch kind {
        case .carft:
            Linear.forward(proj.ptr, x.ptr, params.value("v_head.proj.weight"), rows: n, inDim: d, outDim: p)
            let b1 = params.value("v_head.proj.bias")
            for i in 0..<n {
                let pr = proj.ptr + i * p, ar = act.ptr + i * p
                for k in 0..<p {
                    pr[k] += b1[k]
                    ar[k] = Swift.max(pr[k], 0)
                }
            }
            Linear.forward(v, act.ptr, params.value("v_head.out.weight"), rows: n, inDim: p, outDim: 1)
        case .linear:
            Linear.forward(v, x.ptr, params.value("v_head.out.weight"), rows: n, inDim: d, outDim: 1)
        }
        let b2 = params.value("v_head.out.bias")[0]
        for i in 0..<n { v[i] += b2 }
        return Array(UnsafeBufferPointer(start: v, count: n))
    }

    // MARK: backward

    /// Backward through `pass`'s forward: adds parameter gradients to `params.grads` and ADDS
    /// ∂L/∂h into `dHidden` ([rows, inputDim], the layout of the forward's `hidden`) at the
    /// pass's positions; other rows are untouched. A position listed twice receives both
    /// contributions, which is the correct gradient of the sum, though PPO callers pass each
    /// position once. `dValues` is ∂L/∂V per position. `dProjections` ([n, projectionDim], carft
    /// only) is an extra upstream gradient on p_t, from the contrastive loss, added to the one
    /// flowing back from V. The pass is not consumed: calling backward twice accumulates twice.
    public func backward(_ pass: Pass, dValues: [Float], dProjections: UnsafePointer<Float>? = nil,
                         dHidden: UnsafeMutablePointer<Float>) {
        precondition(pass.hasForward && pass.projectionDim == projectionDim, "ValueHead.backward: the pass is not a forward of this head")
        let n = pass.positions.count, d = inputDim, p = projectionDim
        precondition(dValues.count == n, "ValueHead.backward: \(dValues.count) value gradients for \(n) positions")
        precondition(dProjections == nil || kind == .carft, "ValueHead.backward: the linear head has no projections")
        if n == 0 { return }
        let x = pass.x, proj = pass.proj, act = pass.act, dProj = pass.dProj, dx = pass.dx
        dValues.withUnsafeBufferPointer { dvBuf in
            let dv = dvBuf.baseAddress!
            let db2 = params.grad("v_head.out.bias")
            for i in 0..<n { db2[0] += dv[i] }
            switch kind {
            case .carft:
                // dProj = dv·w2 masked by the ReLU, plus the contrastive gradient on p.
                Linear.backward(dx: dProj.ptr, dw: params.grad("v_head.out.weight"), dy: dv, x: act.ptr,
                                w: params.value("v_head.out.weight"), rows: n, inDim: p, outDim: 1)
                for j in 0..<(n * p) where proj[j] <= 0 { dProj[j] = 0 }
                if let dProjections { VectorMath.axpy(dProj.ptr, dProjections, n * p, 1) }
                let db1 = params.grad("v_head.proj.bias")
                for i in 0..<n { VectorMath.axpy(db1, dProj.ptr + i * p, p, 1) }
                Linear.backward(dx: dx.ptr, dw: params.grad("v_head.proj.weight"), dy: dProj.ptr, x: x.ptr,
                                w: params.value("v_head.proj.weight"), rows: n, inDim: d, outDim: p)
            case .linear:
                Linear.backward(dx: dx.ptr, dw: params.grad("v_head.out.weight"), dy: dv, x: x.ptr,
                                w: params.value("v_head.out.weight"), rows: n, inDim: d, outDim: 1)
            }
        }
        for (i, row) in pass.positions.enumerated() {
            VectorMath.axpy(dHidden + row * d, dx.ptr + i * d, d, 1)
        }
    }

    // MARK: save / load

    /// Writes `<dir>/value_head.safetensors` with the kind and projection width in its metadata,
    /// so a checkpoint folder carries the critic next to the policy's `model.safetensors`.
    public func save(to dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(path: dir, problem: "cannot create the folder (\(error.localizedDescription)); check the path and permissions")
        }
        var tensors: [String: TensorData] = [:]
        for e in params.entries {
            tensors[e.name] = TensorData(shape: e.shape, values: Array(UnsafeBufferPointer(start: params.values.ptr + e.offset, count: e.count)))
        }
        var metadata = ["format": "pt", "kind": kind.rawValue]
        if kind == .carft { metadata["projection_dim"] = String(projectionDim) }
        try Safetensors.write(tensors, metadata: metadata, to: dir + "/" + Self.fileName)
    }

    /// Reads a head written by `save`. `kind` and `inputDim`, when given, are what the caller's
    /// run needs (its configured head and the policy's hidden size); a file that disagrees is
    /// rejected rather than silently training a different critic.
    public static func load(from dir: String, kind expectedKind: Kind? = nil, inputDim expectedDim: Int? = nil) throws -> ValueHead {
        let path = dir + "/" + fileName
        let file: SafetensorsFile
        do {
            file = try Safetensors.read(from: path)
        } catch let e as SafetensorsError where e.kind == .unreadable {
            throw CheckpointError(path: path, problem: "\(e.problem) — was a value head saved in \(dir)?")
        }
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }

        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let kindText = file.metadata["kind"] else {
            throw fail("metadata has no \"kind\" (one of \(kinds)); not a value head file written by this Engine")
        }
        guard let kind = Kind(rawValue: kindText) else {
            throw fail("metadata kind \"\(kindText)\" is not one of \(kinds); re-save the value head")
        }
        if let expectedKind, expectedKind != kind {
            throw fail("holds a \(kind.rawValue) value head but this run uses \(expectedKind.rawValue); choose the matching head kind or start a fresh head")
        }
        var projectionDim = 0
        if kind == .carft {
            guard let text = file.metadata["projection_dim"], let p = Int(text), p > 0 else {
                throw fail("metadata projection_dim is \(file.metadata["projection_dim"].map { "\"\($0)\"" } ?? "missing"), expected a positive integer; re-save the value head")
            }
            projectionDim = p
        }
        // The input width is read from the first matrix, then every tensor is checked against it.
        let first = kind == .carft ? "v_head.proj.weight" : "v_head.out.weight"
        guard let shape = file.tensors[first]?.shape, shape.count == 2, shape[1] > 0 else {
            let found = file.tensors[first].map { "has shape \($0.shape)" } ?? "is missing"
            throw fail("tensor \"\(first)\" \(found); expected [\(kind == .carft ? projectionDim : 1), hidden size]")
        }
        let inputDim = shape[1]
        if let expectedDim, expectedDim != inputDim {
            throw fail("value head reads hidden states of size \(inputDim) but the model's hidden size is \(expectedDim); the head was saved for a different model")
        }
        let layout = Self.layout(kind: kind, inputDim: inputDim, projectionDim: projectionDim)
        var problems: [String] = []
        for (name, expected) in layout {
            guard let t = file.tensors[name] else { problems.append("tensor \"\(name)\" \(expected) is missing"); continue }
            if t.shape != expected { problems.append("tensor \"\(name)\" has shape \(t.shape) but a \(kind.rawValue) head of projection \(projectionDim) over \(inputDim) inputs needs \(expected)") }
        }
        for name in file.tensors.keys.sorted() where !layout.contains(where: { $0.0 == name }) {
            problems.append("tensor \"\(name)\" is not part of a \(kind.rawValue) value head")
        }
        if !problems.isEmpty { throw fail(problems.joined(separator: "; ") + "; re-save the value head") }

        let head = ValueHead(kind: kind, inputDim: inputDim, projectionDim: kind == .carft ? projectionDim : 64, seed: 0)
        for e in head.params.entries {
            file.tensors[e.name]!.values.withUnsafeBufferPointer { (head.params.values.ptr + e.offset).update(from: $0.baseAddress!, count: e.count) }
        }
        if let problem = head.params.nonFiniteProblem() { throw fail(problem) }
        return head
    }
}
