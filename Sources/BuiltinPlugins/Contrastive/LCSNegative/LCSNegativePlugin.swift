import PluginABI

/// `org.workbench.contrastive.lcs-negative`: CARFT's negative signal (`LCSNegative`): for each
/// wrong rollout (reward < 1), anchor = its rollout tokens in the LCS with the annotated CoT,
/// positive = the annotated tokens not in the LCS, candidates = every usable row's rollout
/// tokens not in the LCS.
///
/// Views (`LCSViews`): 0 = rollout LCS (ROLLOUT), 1 = annotated not in the LCS (ANNOTATED),
/// 2 = rollout not in the LCS (ROLLOUT). Keys: `InfoNCEConfig.keys` plus `lcs-scope`:
/// - cot (default): the LCS of the two CoTs; views hold CoT tokens only.
/// - sequence (reference code): the LCS of the whole sequences, prompt included, so the shared
///   prompt lands in the LCS view. Unlike the reference, padding is left out (views hold only
///   present tokens), so on unpadded rows this is `LCSViews.Scope.sequence` exactly.
///
/// Unusable rows: a row with an empty view pools that view to an exact zero vector (header
/// rule), which has no direction to compare. The loss drops such rows as if `valid` were 0 for
/// them (neither a loss term nor a candidate; zero gradient), which is what passing
/// `LCSViews.Result.usable` in `valid` does. Rows are judged from the pooled views, so the loss
/// needs no state from select; metrics `lcs-negative/rows` and `lcs-negative/excluded` count
/// the rows taking part and the wrong rows dropped.
struct LCSNegativePlugin: ContrastiveRule {
    static let id = "org.workbench.contrastive.lcs-negative"
    static let keys = InfoNCEConfig.keys + [
        .choice("lcs-scope", ["cot", "sequence"], "cot", "LCS over the CoT tokens (cot) or over prompt + CoT (sequence, reference code)"),
    ]
    let options: InfoNCEOptions
    let scope: LCSViews.Scope

    init(_ config: BuiltinConfig) throws {
        options = try InfoNCEConfig.options(config)
        scope = try config.choice("lcs-scope", as: LCSViews.Scope.self)
    }

    var sources: [Int] { [WB_VIEW_ROLLOUT, WB_VIEW_ANNOTATED, WB_VIEW_ROLLOUT] }

    func select(_ b: ContrastiveInstance.TokenViews, masks: [UnsafeMutablePointer<UInt8>]) throws {
        // The tokens the LCS runs over: present CoT tokens (cot) or all present tokens (sequence).
        func filter(_ present: UnsafePointer<UInt8>, _ cot: UnsafePointer<UInt8>, _ count: Int) -> [UInt8] {
            (0..<count).map { present[$0] != 0 && (scope == .sequence || cot[$0] != 0) ? 1 : 0 }
        }
        let r = filter(b.rolloutPresent, b.rolloutCoT, b.batch * b.tr)
        let a = filter(b.annotatedPresent, b.annotatedCoT, b.batch * b.ta)
        r.withUnsafeBufferPointer { r in
            a.withUnsafeBufferPointer { a in
                _ = LCSViews.masks(batch: b.batch, rolloutT: b.tr, annotatedT: b.ta,
                                   rolloutIds: b.rolloutIDs, rolloutCot: r.baseAddress ?? b.rolloutCoT,
                                   annotatedIds: b.annotatedIDs, annotatedCot: a.baseAddress ?? b.annotatedCoT, scope: .cot,
                                   rolloutLCS: masks[0], annotatedExc: masks[1], rolloutExc: masks[2])
            }
        }
    }

    /// `valid` with the rows whose views are not all non-zero turned off.
    static func usable(_ b: ContrastiveInstance.Views) -> [UInt8] {
        (0..<b.batch).map { i in
            guard b.valid == nil || b.valid![i] != 0 else { return 0 }
            for v in b.views {
                let row = v + i * b.dim
                if !(0..<b.dim).contains(where: { row[$0] != 0 }) { return 0 }
            }
            return 1
        }
    }

    func forward(_ b: ContrastiveInstance.Views, host: BuiltinInstance) throws -> Double {
        let usable = Self.usable(b)
        var rows = 0, excluded = 0
        for i in 0..<b.batch where b.rewards[i] < LCSNegative.rewardThreshold && (b.valid == nil || b.valid![i] != 0) {
            if usable[i] != 0 { rows += 1 } else { excluded += 1 }
        }
        host.metric("lcs-negative/rows", Double(rows))
        host.metric("lcs-negative/excluded", Double(excluded))
        return usable.withUnsafeBufferPointer { u in
            LCSNegative.forward(batch: b.batch, dim: b.dim, rolloutLCS: b.views[0], annotatedExc: b.views[1], rolloutExc: b.views[2],
                                rewards: b.rewards, valid: u.baseAddress!, options: options)
        }
    }

    func backward(_ b: ContrastiveInstance.Views, gradLoss: Float, grads: [UnsafeMutablePointer<Float>?]) throws {
        let usable = Self.usable(b)
        usable.withUnsafeBufferPointer { u in
            LCSNegative.backward(batch: b.batch, dim: b.dim, rolloutLCS: b.views[0], annotatedExc: b.views[1], rolloutExc: b.views[2],
                                 rewards: b.rewards, valid: u.baseAddress!, options: options, gradLoss: gradLoss,
                                 gradRolloutLCS: grads[0], gradAnnotatedExc: grads[1], gradRolloutExc: grads[2])
        }
    }

    static let descriptor = ContrastiveInstance.makeDescriptor(
        id: id, summary: "CARFT negative signal: wrong rollouts' LCS tokens vs the annotated CoT's tokens outside the LCS",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: LCSNegativePlugin.keys) { config, host in ContrastiveInstance(try LCSNegativePlugin(config), host: host) }
        })
}
