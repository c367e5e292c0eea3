/// How CARFT lays a batch of prompted sequences out for the contrastive plugins: each row is the
/// whole token sequence (prompt + continuation), right-padded to `tokens` (T), with the id,
/// present and CoT masks the ABI's `select` reads, and for every token the value-head state
/// whose projection p is that token's embedding.
///
/// Token t's embedding is p at h_{t−1}, the state that chose it (so a CoT token's embedding and
/// its V are the ones PPO uses for that action); the first prompt token, which no state chose,
/// takes h_0. The contrastive term therefore reads the value head over every state the model
/// computes for a row (s < inputLength).
struct CoTLayout {
    let rows: Int
    /// T: the longest full sequence of the batch (or more, when the caller pads to a shared T).
    let tokens: Int
    /// [rows×T] token ids, padding after each sequence.
    let ids: [Int32]
    /// [rows×T] 1 = a real token (prompt or continuation).
    let present: [UInt8]
    /// [rows×T] 1 = a token of the continuation's chain of thought: after the prompt and
    /// before the answer line (or the whole continuation but its EOS when there is no answer line).
    let cot: [UInt8]
    /// Flat hidden-state rows (row·seq + s) the value head reads, row by row.
    let headPositions: [Int]
    /// [rows×T] index into `headPositions` of token t's state, −1 for padding.
    let tokenState: [Int]

    /// `marker` is the tokenised "\nTherefore, the answer is: " line start; `minTokens` pads T
    /// up so mini-batches can share the update's T.
    init(_ sequences: [PromptedSequence], batch: TokenBatch, marker: [Int32], eos: Int32, minTokens: Int = 0) {
        precondition(sequences.count == batch.batch, "CoTLayout: \(sequences.count) sequences for a batch of \(batch.batch)")
        rows = sequences.count
        let T = max(minTokens, sequences.map(\.ids.count).max() ?? 0)
        tokens = T
        var ids = [Int32](repeating: 0, count: rows * T)
        var present = [UInt8](repeating: 0, count: rows * T), cot = present
        var tokenState = [Int](repeating: -1, count: rows * T)
        var headPositions: [Int] = []
        for (b, s) in sequences.enumerated() {
            let first = headPositions.count
            for state in 0..<s.inputLength { headPositions.append(b * batch.seq + state) }
            for t in 0..<s.ids.count {
                ids[b * T + t] = s.ids[t]
                present[b * T + t] = 1
                tokenState[b * T + t] = first + max(t - 1, 0)
            }
            let end = Self.cotEnd(s, marker: marker, eos: eos)
            for t in s.promptLength..<end { cot[b * T + t] = 1 }
        }
        self.ids = ids
        self.present = present
        self.cot = cot
        self.headPositions = headPositions
        self.tokenState = tokenState
    }

    /// One past the last CoT token: where the answer line starts, else the end without EOS.
    static func cotEnd(_ s: PromptedSequence, marker: [Int32], eos: Int32) -> Int {
        let ids = s.ids, start = s.promptLength
        if !marker.isEmpty, ids.count - start >= marker.count {
            for i in start...(ids.count - marker.count) where ids[i] == marker[0] {
                if ids[i..<(i + marker.count)].elementsEqual(marker) { return i }
            }
        }
        return ids.last == eos ? ids.count - 1 : ids.count
    }

    /// Token embeddings [rows×T×dim] and values [rows×T] from the head's outputs over
    /// `headPositions` (projections [n×dim], values [n]); padding stays 0.
    func gather(projections: UnsafePointer<Float>, values: UnsafePointer<Float>, dim: Int) -> (tokens: FloatBuffer, values: FloatBuffer) {
        let e = FloatBuffer(rows * tokens * dim), v = FloatBuffer(rows * tokens)
        for (i, s) in tokenState.enumerated() where s >= 0 {
            (e.ptr + i * dim).update(from: projections + s * dim, count: dim)
            v[i] = values[s]
        }
        return (e, v)
    }

    /// The transpose of `gather`: adds token gradients into per-state ∂p ([n×dim]) and ∂V ([n]).
    /// Two tokens can share a state (the first two prompt tokens), so this adds, never assigns.
    func scatter(gradTokens: FloatBuffer, gradValues: FloatBuffer?, dim: Int,
                 dProjections: UnsafeMutablePointer<Float>, dValues: inout [Float]) {
        for (i, s) in tokenState.enumerated() where s >= 0 {
            VectorMath.axpy(dProjections + s * dim, gradTokens.ptr + i * dim, dim, 1)
            if let gradValues { dValues[s] += gradValues[i] }
        }
    }
}
