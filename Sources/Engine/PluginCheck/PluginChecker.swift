import Foundation

/// Runs a plugin on random inputs and checks what a training run relies on: it can be created
/// from its defaults, its outputs are finite and shaped as the header says, and each backward is
/// the gradient of its forward (central finite differences of a random projection of the output).
/// Needs no dlopen, so it checks built-ins and loaded libraries alike.
public enum PluginChecker {
    /// Checks one plugin; never throws: every problem becomes a FAIL line. `starting` is told the
    /// name of each check before it runs and `finished` each result as it comes, so a caller can
    /// show them as they happen and say which check a call that never returns belongs to.
    public static func check(_ descriptor: PluginDescriptor, config: [String: String] = [:], seed: UInt64 = 0,
                             starting: @escaping (String) -> Void = { _ in }, finished: @escaping (PluginCheckResult) -> Void = { _ in }) -> [PluginCheckResult] {
        let run = PluginCheckRun(plugin: descriptor.id, starting: starting, finished: finished)
        var instance: PluginInstance?
        run.check("create") {
            instance = try PluginInstance(descriptor, config: config, onLog: run.logSink)
            return instance!.config.isEmpty ? "no config keys" : PluginConfig.text(instance!.config)
        }
        guard let instance else { return run.results }
        // A plugin whose backward stops gradients on purpose names a config under which it does
        // not (WB_EXT_GRADIENT_CHECK_CONFIG); finite differences are compared on that instance.
        var gradient = GradientInstance(instance: instance, note: "")
        if let pairs = descriptor.gradientCheckConfig {
            run.check("create the exact-gradient instance for the finite-difference checks (\(PluginDescriptor.gradientCheckExtension))") {
                let extra = try PluginConfig.parse(pairs)
                let made = try PluginInstance(descriptor, config: config.merging(extra) { _, new in new }, onLog: run.logSink)
                gradient = GradientInstance(instance: made, note: " [with \(pairs): the plugin's exact-gradient config]")
                return pairs
            }
        }
        var rng = RNG(seed: seed, stream: "plugin-check-\(descriptor.id)")
        switch descriptor.kind {
        case .reward: checkReward(instance, &rng, run)
        case .pooling: checkPooling(instance, gradient, &rng, run)
        case .contrastive: checkContrastive(instance, gradient, &rng, run)
        }
        // What destroy logs belongs to no check: it goes where training's log goes.
        instance.onLog = nil
        gradient.instance.onLog = nil
        return run.results
    }

    /// The instance the finite-difference checks use, and what their lines add when it is not
    /// the checked one.
    struct GradientInstance {
        var instance: PluginInstance
        var note: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// What select's mask buffers hold before the call: neither 0 nor 1, so a skipped entry shows.
    static let maskSentinel: UInt8 = 171

    /// The check that runs backward on buffers filled with NaN first.
    static let backwardWrites = "backward is finite and writes every gradient entry"

    /// What a NaN-filled gradient entry means in a check failure.
    static let sentinelNote = " (the checker fills gradient buffers with NaN first, so an entry backward did not overwrite also shows as NaN)"

    // MARK: pooling

    static func checkPooling(_ instance: PluginInstance, _ gradient: GradientInstance, _ rng: inout RNG, _ run: PluginCheckRun) {
        guard let pooling = try? PluginPooling(instance) else { return }
        // One wrapper when there is one instance: a second would run (and print) backward twice.
        let separate = gradient.instance !== instance
        guard let exact = separate ? try? PluginPooling(gradient.instance) : pooling else { return }
        let batch = 3, tokens = 6, dim = 5
        let x = FloatBuffer((0..<(batch * tokens * dim)).map { _ in rng.normal() })
        let values = FloatBuffer((0..<(batch * tokens)).map { _ in rng.normal() })
        // Row 0 pools a few tokens with a gap, row 1 all of them, row 2 none (must give zeros).
        let mask: [UInt8] = [0, 1, 1, 0, 1, 0] + [1, 1, 1, 1, 1, 1] + [0, 0, 0, 0, 0, 0]
        let projection = FloatBuffer((0..<(batch * dim)).map { _ in rng.normal() })
        func loss() throws -> Double {
            let out = try exact.forward(tokenEmbeddings: x, values: values, mask: mask, batch: batch, tokens: tokens, dim: dim)
            return (0..<(batch * dim)).reduce(0.0) { $0 + Double(out[$1]) * Double(projection[$1]) }
        }
        run.check("forward is finite and pools an all-zero mask row to zeros") {
            let out = try pooling.forward(tokenEmbeddings: x, values: values, mask: mask, batch: batch, tokens: tokens, dim: dim)
            for d in 0..<dim where out[2 * dim + d] != 0 {
                throw Failure("a row with an all-zero mask pooled to \(out[2 * dim + d]) at dim \(d); it must give a zero embedding")
            }
            return ""
        }
        if !pooling.usesValues {
            run.check("forward without values (the plugin does not declare WB_POOLING_USES_VALUES)") {
                _ = try pooling.forward(tokenEmbeddings: x, values: nil, mask: mask, batch: batch, tokens: tokens, dim: dim)
                return ""
            }
        }
        func filledBackward(_ p: PluginPooling) throws -> (tokens: FloatBuffer, values: FloatBuffer?) {
            let gt = FloatBuffer(batch * tokens * dim), gv = FloatBuffer(batch * tokens)
            gt.ptr.update(repeating: .nan, count: gt.count)
            gv.ptr.update(repeating: .nan, count: gv.count)
            try mask.withUnsafeBufferPointer { m in
                let input = PoolingInput(batch: batch, tokens: tokens, dim: dim, tokenEmbeddings: x.ptr, values: values.ptr, mask: m.baseAddress!)
                do {
                    try p.backward(input, gradOut: projection.ptr, gradTokens: gt.ptr, gradValues: gv.ptr)
                } catch let error as PluginError where error.message.contains("NaN") {
                    throw Failure("\(error)" + sentinelNote)
                }
            }
            return (gt, gv)
        }
        var analytic: (tokens: FloatBuffer, values: FloatBuffer?)?
        run.check(backwardWrites) {
            analytic = try filledBackward(pooling)
            return ""
        }
        guard let analytic else { return }
        var exactGrad = analytic
        if separate {
            run.check(backwardWrites + gradient.note) {
                exactGrad = try filledBackward(exact)
                return ""
            }
        }
        run.check("backward vs finite differences (token embeddings)\(gradient.note)") {
            try compare(exactGrad.tokens.array, numeric(x, of: "token embeddings", loss))
        }
        run.check("backward vs finite differences (values)\(gradient.note)") {
            try compare(exactGrad.values!.array, numeric(values, of: "values", loss))
        }
        run.check("backward honours NULL gradients (grad_values NULL, then both)") {
            let gt = FloatBuffer(batch * tokens * dim)
            try mask.withUnsafeBufferPointer { m in
                let input = PoolingInput(batch: batch, tokens: tokens, dim: dim, tokenEmbeddings: x.ptr, values: values.ptr, mask: m.baseAddress!)
                try pooling.backward(input, gradOut: projection.ptr, gradTokens: gt.ptr, gradValues: nil)
                try pooling.backward(input, gradOut: projection.ptr, gradTokens: nil, gradValues: nil)
            }
            guard gt.array == analytic.tokens.array else { throw Failure("grad_tokens differs when grad_values is NULL") }
            return ""
        }
    }

    // MARK: contrastive

    static func checkContrastive(_ instance: PluginInstance, _ gradient: GradientInstance, _ rng: inout RNG, _ run: PluginCheckRun) {
        var loss: PluginContrastiveLoss?, exactLoss: PluginContrastiveLoss?
        run.check("view count and sources") {
            loss = try PluginContrastiveLoss(instance)
            exactLoss = gradient.instance === instance ? loss : try PluginContrastiveLoss(gradient.instance)
            guard exactLoss!.viewSources == loss!.viewSources else {
                throw Failure("the views differ under the exact-gradient config (\(exactLoss!.viewSources) vs \(loss!.viewSources))")
            }
            return loss!.viewSources.map(\.description).joined(separator: ", ")
        }
        guard let loss, let exactLoss else { return }
        let batch = 6, tr = 14, ta = 12, dim = 5, prompt = 4
        // Same prompt in both sequences, CoTs from a small vocabulary so they share subsequences.
        var rIDs = [Int32](repeating: 0, count: batch * tr), aIDs = [Int32](repeating: 0, count: batch * ta)
        var rPresent = [UInt8](repeating: 0, count: batch * tr), aPresent = [UInt8](repeating: 0, count: batch * ta)
        var rCoT = rPresent, aCoT = aPresent
        for b in 0..<batch {
            let rLen = rng.int(in: (prompt + 2)...tr), aLen = rng.int(in: (prompt + 2)...ta)
            for t in 0..<prompt { let id = Int32(rng.int(in: 10...20)); rIDs[b * tr + t] = id; aIDs[b * ta + t] = id }
            for t in prompt..<rLen { rIDs[b * tr + t] = Int32(rng.int(in: 0...7)); rCoT[b * tr + t] = 1 }
            for t in prompt..<aLen { aIDs[b * ta + t] = Int32(rng.int(in: 0...7)); aCoT[b * ta + t] = 1 }
            for t in 0..<rLen { rPresent[b * tr + t] = 1 }
            for t in 0..<aLen { aPresent[b * ta + t] = 1 }
        }
        run.check("select writes 0/1 masks over real tokens only") {
            let masks = try rIDs.withUnsafeBufferPointer { ri in try aIDs.withUnsafeBufferPointer { ai in
                try rPresent.withUnsafeBufferPointer { rp in try aPresent.withUnsafeBufferPointer { ap in
                    try rCoT.withUnsafeBufferPointer { rc in try aCoT.withUnsafeBufferPointer { ac in
                        do {
                            return try loss.select(TokenViewsInput(batch: batch, rolloutTokens: tr, annotatedTokens: ta,
                                                                   rolloutIDs: ri.baseAddress!, rolloutPresent: rp.baseAddress!, rolloutCoT: rc.baseAddress!,
                                                                   annotatedIDs: ai.baseAddress!, annotatedPresent: ap.baseAddress!, annotatedCoT: ac.baseAddress!),
                                                   fill: maskSentinel)
                        } catch let error as PluginError where error.message.contains("wrote \(maskSentinel) into") {
                            throw Failure("\(error) (the checker fills masks with \(maskSentinel) first, so an entry select did not write shows as \(maskSentinel))")
                        }
                    } }
                } }
            } }
            for (v, mask) in masks.enumerated() {
                let present = loss.viewSources[v] == .rollout ? rPresent : aPresent
                if let i = mask.indices.first(where: { mask[$0] == 1 && present[$0] == 0 }) {
                    throw Failure("view \(v) selects padding at out_masks[\(v)][\(i)]; views may hold only real tokens")
                }
            }
            return "tokens per view: " + masks.map { "\($0.reduce(0) { $0 + Int($1) })" }.joined(separator: ", ")
        }
        let views = (0..<loss.viewCount).map { _ in FloatBuffer((0..<(batch * dim)).map { _ in rng.normal() }) }
        // Correct and wrong rollouts both appear (masks such as reward ≥ 1 or < 1 keep several
        // rows), and the last row is padding, which must not affect the loss.
        let rewards: [Float] = [1, 0.1, 1, 0, 1, 0.1]
        let valid: [UInt8] = [1, 1, 1, 1, 1, 0]
        let gradLoss: Float = 0.7
        func input<R>(_ body: (ContrastiveInput) throws -> R) rethrows -> R {
            try rewards.withUnsafeBufferPointer { r in try valid.withUnsafeBufferPointer { v in
                try body(ContrastiveInput(batch: batch, dim: dim, views: views.map { UnsafePointer($0.ptr) }, rewards: r.baseAddress!, valid: v.baseAddress!))
            } }
        }
        run.check("forward gives a finite loss") { "loss \(try input { try loss.forward($0) })" }
        func filledBackward(_ l: PluginContrastiveLoss) throws -> [FloatBuffer] {
            let grads = views.map { _ in FloatBuffer(batch * dim) }
            for g in grads { g.ptr.update(repeating: .nan, count: g.count) }
            do {
                try input { try l.backward($0, gradLoss: gradLoss, gradViews: grads.map { $0.ptr }) }
            } catch let error as PluginError where error.message.contains("NaN") {
                throw Failure("\(error)" + sentinelNote)
            }
            return grads
        }
        var analytic: [FloatBuffer]?
        run.check(backwardWrites) {
            analytic = try filledBackward(loss)
            return ""
        }
        guard let analytic else { return }
        var exactGrad = analytic
        if exactLoss !== loss {
            run.check(backwardWrites + gradient.note) {
                exactGrad = try filledBackward(exactLoss)
                return ""
            }
        }
        for v in 0..<loss.viewCount {
            run.check("backward vs finite differences (view \(v), \(loss.viewSources[v]))\(gradient.note)") {
                try compare(exactGrad[v].array, numeric(views[v], of: "view") { Double(gradLoss) * (try input { try exactLoss.forward($0) }) })
            }
        }
        run.check("backward honours NULL gradients (only grad_views[0] asked for)") {
            let g = FloatBuffer(batch * dim)
            try input { try loss.backward($0, gradLoss: gradLoss, gradViews: [g.ptr] + Array(repeating: nil, count: loss.viewCount - 1)) }
            guard g.array == analytic[0].array else { throw Failure("grad_views[0] differs when the other gradients are NULL") }
            return ""
        }
    }

    // MARK: finite differences

    /// Central differences of `f` with respect to each entry of `x`, named `input` in a failure.
    /// The step actually taken is measured after Float rounding.
    static func numeric(_ x: FloatBuffer, of input: String, h: Float = 1e-2, _ f: () throws -> Double) throws -> [Double] {
        try (0..<x.count).map { i in
            let orig = x[i]
            // Put back however f ends: after a throw, a moved entry would otherwise stay moved
            // and fail every later check that reuses x, whatever the plugin does right.
            defer { x[i] = orig }
            func at(_ step: Float) throws -> (x: Float, f: Double) {
                x[i] = orig + step
                do {
                    return (x[i], try f())
                } catch {
                    throw Failure("with entry \(i) of the \(input) moved by \(step > 0 ? "+" : "")\(step): \(error)")
                }
            }
            let plus = try at(h), minus = try at(-h)
            return (plus.f - minus.f) / (Double(plus.x) - Double(minus.x))
        }
    }

    /// Passes when every entry agrees within 1e-3 absolute plus 2% relative: loose enough for a
    /// plugin computing in float32 with a 1e-2 step, tight enough to catch a wrong term or sign.
    static func compare(_ analytic: [Float], _ numeric: [Double]) throws -> String {
        var worst = 0.0, worstIndex = 0
        for (i, (a, n)) in zip(analytic, numeric).enumerated() {
            let err = abs(Double(a) - n)
            if err > 1e-3 + 0.02 * max(abs(Double(a)), abs(n)) {
                throw Failure("entry \(i): backward gave \(a), finite differences \(String(format: "%.6g", n)) (\(analytic.count) entries)")
            }
            if err > worst { worst = err; worstIndex = i }
        }
        return String(format: "max abs error %.2g (entry %d) over %d entries", worst, worstIndex, analytic.count)
    }
}
