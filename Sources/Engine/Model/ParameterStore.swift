/// All trainable tensors of a model in one flat buffer, with a parallel gradient buffer.
/// One flat buffer makes the optimiser, gradient clipping and checkpointing single loops,
/// while each tensor keeps its Hugging Face name and shape for safetensors.
public final class ParameterStore {
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// Weight decay applies to matrices only (not to norm gains), as in common practice.
        public var decays: Bool { shape.count >= 2 }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    public let values: FloatBuffer
    /// The gradients, allocated on first use: a frozen model (the base under LoRA adapters, a
    /// reference policy) never computes one and so never holds a second model's worth of memory.
    public var grads: FloatBuffer {
        if let g = allocatedGrads { return g }
        let g = FloatBuffer(values.count)
        allocatedGrads = g
        return g
    }
    private var allocatedGrads: FloatBuffer?
    /// Whether anything has asked for the gradients yet.
    public var hasGradients: Bool { allocatedGrads != nil }

    /// `layout` is the ordered list of (name, shape); offsets are assigned in that order.
    public init(layout: [(String, [Int])]) {
        var off = 0
        for (name, shape) in layout {
            precondition(index[name] == nil, "duplicate parameter \(name)")
            index[name] = entries.count
            entries.append(Entry(name: name, shape: shape, offset: off))
            off += shape.reduce(1, *)
        }
        values = FloatBuffer(off)
    }

    public var count: Int { values.count }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Pointer to a tensor's values; traps on an unknown name, which is a programming error.
    public func value(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return values.ptr + e.offset
    }

    public func grad(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return grads.ptr + e.offset
    }

    public func zeroGrad() { grads.zero() }

    /// The first tensor holding a NaN or an infinity, with the flat index inside it and the
    /// value; nil when every value is finite. Loaders refuse such weights: a model with one NaN
    /// evaluates to 0% and trains into "lower the learning rate", which names the wrong cause.
    public func firstNonFinite() -> (name: String, index: Int, value: Float)? {
        for e in entries {
            let p = values.ptr + e.offset
            for i in 0..<e.count where !p[i].isFinite { return (e.name, i, p[i]) }
        }
        return nil
    }

    /// `firstNonFinite`, as the sentence a loader puts in its error.
    public func nonFiniteProblem() -> String? {
        firstNonFinite().map { "tensor \"\($0.name)\" holds \($0.value) at flat index \($0.index); the weights are damaged (or were saved from a run that diverged) — use an earlier checkpoint" }
    }
}
