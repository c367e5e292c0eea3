/// CARFT's contrastive term inside PPO, as the CARFT reference code runs it, computed only through plugins: the
/// contrastive plugin chooses token views of the rollout and annotated sequences, the pooling
/// plugin turns each view into one embedding per row from the value head's projections p_t (and
/// values V_t), and the contrastive plugin's loss, times c, joins the PPO loss. Its gradient goes
/// back through the plugins' backward into p_t and V_t, and from there through the value head
/// into the policy's hidden states. Swapping any plugin needs no change here.
public final class CARFTObjective {
    public let pooling: PluginPooling
    public let contrastive: PluginContrastiveLoss
    /// c, the contrastive loss weight (reference 1e-3).
    public let coefficient: Float
    let marker: [Int32]
    let eos: Int32

    public init(pooling: PluginPooling, contrastive: PluginContrastiveLoss, coefficient: Float, tokenizer: any Tokenizer) {
        self.pooling = pooling
        self.contrastive = contrastive
        self.coefficient = coefficient
        marker = tokenizer.encode("\n" + ReFTFormat.answerMarker).map { Int32($0) }
        eos = Int32(tokenizer.eosId)
    }

    /// Where each reader keeps its value-head forward: the rollout batch's states, the
    /// annotated batch's, and a mini-batch's. PPO's value loss keeps its own.
    private let rolloutPass = ValueHead.Pass(), annotatedPass = ValueHead.Pass(), miniBatchPass = ValueHead.Pass()
    /// The annotated sequences' continuation and its cache, kept so their scratch is reused.
    private var continuation: IncrementalForward?
    private var keptCache: KVCache?

    /// What one rollout batch fixes for all its PPO passes.
    struct Prepared {
        var rollout: CoTLayout
        var annotated: CoTLayout
        /// Each view's token mask from `select`, [B×T_source(v)].
        var masks: [[UInt8]]
        /// Annotated-source views pooled once, without gradient: view index → [B×P].
        var annotatedViews: [Int: FloatBuffer]
        /// Whole-CoT embeddings per row (the reward plugin's z_rollout and z_annotated).
        var rolloutCoT: [[Float]]
        var annotatedCoT: [[Float]]
    }

    func layout(_ sequences: [PromptedSequence], batch: TokenBatch, minTokens: Int = 0) -> CoTLayout {
        CoTLayout(sequences, batch: batch, marker: marker, eos: eos, minTokens: minTokens)
    }

    /// The annotated sequences of a rollout batch, and the cache its forward fills for them.
    struct Prefix {
        let annotated: [PromptedSequence]
        /// Row b keeps the positions rollout b shares with annotated sequence b from their start
        /// (at least the prompt; more when the rollout began as the annotated CoT does), with
        /// room for the rest of the annotated sequence (`Transformer.forward(keeping:)`).
        let cache: KVCache
    }

    func prefix(config: ModelConfig, rollouts: [PromptedSequence], annotated: [PromptedSequence]) -> Prefix {
        // Kept from update to update while it is big enough: a fresh one (tens of MB) was paged
        // in and zeroed every update.
        let capacity = max(1, annotated.map(\.inputLength).max() ?? 1)
        if keptCache == nil || keptCache!.batch != rollouts.count || keptCache!.capacity < capacity {
            keptCache = nil
            keptCache = KVCache(config: config, batch: rollouts.count, capacity: capacity)
        }
        let cache = keptCache!
        for (b, (r, a)) in zip(rollouts, annotated).enumerated() {
            let limit = min(r.inputLength, a.inputLength)
            var n = 0
            while n < limit && r.ids[n] == a.ids[n] { n += 1 }
            cache.lengths[b] = n
        }
        return Prefix(annotated: annotated, cache: cache)
    }

    /// Reads the head over every state of the rollout batch (the policy's hidden states must be
    /// that batch's, as its rollout forward left them), then the annotated sequences' states
    /// teacher-forced through the policy (no gradient), runs `select` over the whole batch, and
    /// pools the annotated views and both whole-CoT embeddings.
    ///
    /// Only the part of each annotated sequence after the start it shares with its rollout runs,
    /// continuing the keys and values the rollout batch's forward kept in `prefix.cache`; the
    /// shared positions' states are the rollout's own (the policy is causal, so they are the same
    /// states). The prompt is most of an annotated sequence, so this skips most of what
    /// teacher-forcing it whole would cost.
    func prepare(policy: Transformer, head: ValueHead, rollouts: [PromptedSequence], batch rolloutBatch: TokenBatch,
                 prefix: Prefix, padId: Int) throws -> Prepared {
        let sequences = prefix.annotated
        let P = head.projectionDim
        let rollout = layout(rollouts, batch: rolloutBatch)
        let rValues = head.forward(hidden: policy.hiddenStates, positions: rollout.headPositions, into: rolloutPass)
        let batch = TokenBatch(sequences, padId: padId)
        let annotated = layout(sequences, batch: batch)
        let states = continuedStates(policy: policy, rolloutSeq: rolloutBatch.seq, sequences, batch: batch, prefix: prefix.cache)
        let aValues = head.forward(hidden: states.ptr, positions: annotated.headPositions, into: annotatedPass)

        let masks: [[UInt8]] = try rollout.ids.withUnsafeBufferPointer { rIds in
            try rollout.present.withUnsafeBufferPointer { rPresent in
                try rollout.cot.withUnsafeBufferPointer { rCoT in
                    try annotated.ids.withUnsafeBufferPointer { aIds in
                        try annotated.present.withUnsafeBufferPointer { aPresent in
                            try annotated.cot.withUnsafeBufferPointer { aCoT in
                                try contrastive.select(TokenViewsInput(
                                    batch: rollout.rows, rolloutTokens: rollout.tokens, annotatedTokens: annotated.tokens,
                                    rolloutIDs: rIds.baseAddress!, rolloutPresent: rPresent.baseAddress!, rolloutCoT: rCoT.baseAddress!,
                                    annotatedIDs: aIds.baseAddress!, annotatedPresent: aPresent.baseAddress!, annotatedCoT: aCoT.baseAddress!))
                            }
                        }
                    }
                }
            }
        }
        let r = rValues.withUnsafeBufferPointer { rollout.gather(projections: rolloutPass.projections!, values: $0.baseAddress!, dim: P) }
        let a = aValues.withUnsafeBufferPointer { annotated.gather(projections: annotatedPass.projections!, values: $0.baseAddress!, dim: P) }
        var annotatedViews: [Int: FloatBuffer] = [:]
        for (v, source) in contrastive.viewSources.enumerated() where source == .annotated {
            annotatedViews[v] = try pooling.forward(tokenEmbeddings: a.tokens, values: a.values, mask: masks[v],
                                                    batch: annotated.rows, tokens: annotated.tokens, dim: P)
        }
        func rows(_ z: FloatBuffer) -> [[Float]] {
            (0..<rollout.rows).map { Array(UnsafeBufferPointer(start: z.ptr + $0 * P, count: P)) }
        }
        let zr = try pooling.forward(tokenEmbeddings: r.tokens, values: r.values, mask: rollout.cot,
                                     batch: rollout.rows, tokens: rollout.tokens, dim: P)
        let za = try pooling.forward(tokenEmbeddings: a.tokens, values: a.values, mask: annotated.cot,
                                     batch: annotated.rows, tokens: annotated.tokens, dim: P)
        return Prepared(rollout: rollout, annotated: annotated, masks: masks, annotatedViews: annotatedViews,
                        rolloutCoT: rows(zr), annotatedCoT: rows(za))
    }

    /// The annotated batch's final hidden states, [batch·seq × dim] laid out as `batch`: row b's
    /// first `prefix.lengths[b]` from the rollout batch's states (rows `rolloutSeq` apart), the
    /// rest appended to the cached prefix by the inference forward.
    private func continuedStates(policy: Transformer, rolloutSeq: Int, _ sequences: [PromptedSequence], batch: TokenBatch,
                                 prefix: KVCache) -> FloatBuffer {
        let D = policy.config.dim, states = FloatBuffer(batch.batch * batch.seq * D)
        var tokens: [IncrementalForward.Token] = [], at: [Int] = []
        for (b, s) in sequences.enumerated() {
            let shared = prefix.lengths[b]
            (states.ptr + b * batch.seq * D).update(from: policy.hiddenStates + b * rolloutSeq * D, count: shared * D)
            for t in shared..<s.inputLength {
                tokens.append(.init(row: b, token: s.ids[t]))
                at.append(b * batch.seq + t)
            }
        }
        guard !tokens.isEmpty else { return states }
        let fresh = FloatBuffer(tokens.count * D)
        // Not sampling: the kept prefix is the training forward's, so its continuation multiplies as that does.
        if continuation?.model !== policy { continuation = IncrementalForward(model: policy, sampling: false) }
        continuation!.appendStates(tokens, to: prefix, into: fresh.ptr)
        for (i, p) in at.enumerated() { (states.ptr + p * D).update(from: fresh.ptr + i * D, count: D) }
        return states
    }

    /// The contrastive loss of mini-batch rows `mb` (indices into the prepared batch), read from
    /// the policy's hidden states of that mini-batch (`sequences` laid out as `batch`, as the
    /// policy's forward left them), and its backward: c·∂L flows through the plugins, the head's
    /// projections and values, into the head's parameter gradients and into the returned
    /// ∂L/∂hidden ([batch·seq × dim], for the caller to add to the policy's). Returns L without c.
    func lossAndGradient(_ prepared: Prepared, rows mb: [Int], sequences: [PromptedSequence], batch: TokenBatch,
                         policy: Transformer, head: ValueHead, rewards: [Float]) throws -> (loss: Double, dHidden: FloatBuffer) {
        let sub = layout(sequences, batch: batch, minTokens: prepared.rollout.tokens)
        guard sub.tokens == prepared.rollout.tokens else {
            throw TrainingError("CARFT: a mini-batch of \(sub.tokens) tokens does not fit its update's \(prepared.rollout.tokens)")
        }
        let n = mb.count, T = sub.tokens, P = head.projectionDim
        let values = head.forward(hidden: policy.hiddenStates, positions: sub.headPositions, into: miniBatchPass)
        let r = values.withUnsafeBufferPointer { sub.gather(projections: miniBatchPass.projections!, values: $0.baseAddress!, dim: P) }
        var views: [FloatBuffer] = [], rolloutMasks: [Int: [UInt8]] = [:]
        for (v, source) in contrastive.viewSources.enumerated() {
            if source == .rollout {
                var mask = [UInt8](repeating: 0, count: n * T)
                for (j, i) in mb.enumerated() {
                    for t in 0..<T { mask[j * T + t] = prepared.masks[v][i * T + t] }
                }
                rolloutMasks[v] = mask
                views.append(try pooling.forward(tokenEmbeddings: r.tokens, values: r.values, mask: mask, batch: n, tokens: T, dim: P))
            } else {
                let all = prepared.annotatedViews[v]!, z = FloatBuffer(n * P)
                for (j, i) in mb.enumerated() { (z.ptr + j * P).update(from: all.ptr + i * P, count: P) }
                views.append(z)
            }
        }
        let valid = [UInt8](repeating: 1, count: n)
        let grads = contrastive.viewSources.map { $0 == .rollout ? FloatBuffer(n * P) : nil }
        let loss = try rewards.withUnsafeBufferPointer { rw in
            try valid.withUnsafeBufferPointer { va in
                let input = ContrastiveInput(batch: n, dim: P, views: views.map { UnsafePointer($0.ptr) },
                                             rewards: rw.baseAddress!, valid: va.baseAddress!)
                let loss = try contrastive.forward(input)
                try contrastive.backward(input, gradLoss: coefficient, gradViews: grads.map { $0?.ptr })
                return loss
            }
        }
        let dProjections = FloatBuffer(values.count * P)
        var dValues = [Float](repeating: 0, count: values.count)
        for (v, g) in grads.enumerated() {
            guard let g, let mask = rolloutMasks[v] else { continue }
            let back = try pooling.backward(tokenEmbeddings: r.tokens, values: r.values, mask: mask,
                                            gradOut: g, batch: n, tokens: T, dim: P)
            sub.scatter(gradTokens: back.tokens, gradValues: back.values, dim: P, dProjections: dProjections.ptr, dValues: &dValues)
        }
        let dHidden = FloatBuffer(batch.batch * batch.seq * head.inputDim)
        head.backward(miniBatchPass, dValues: dValues, dProjections: dProjections.ptr, dHidden: dHidden.ptr)
        return (loss, dHidden)
    }
}
