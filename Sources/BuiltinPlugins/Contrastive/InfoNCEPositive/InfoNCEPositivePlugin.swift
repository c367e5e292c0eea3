import PluginABI

/// `org.workbench.contrastive.infonce-positive`: CARFT's positive signal (`InfoNCEPositive`):
/// for each correct rollout (reward ≥ 1), anchor = its annotated CoT, positive = its rollout
/// CoT, candidates = every valid rollout CoT of the batch.
/// Views: 0 = annotated CoT (ANNOTATED), 1 = rollout CoT (ROLLOUT); masks = the CoT masks
/// (restricted to present tokens). Keys: `InfoNCEConfig.keys`.
struct InfoNCEPositivePlugin: ContrastiveRule {
    static let id = "org.workbench.contrastive.infonce-positive"
    static let keys = InfoNCEConfig.keys
    let options: InfoNCEOptions

    init(_ config: BuiltinConfig) throws {
        options = try InfoNCEConfig.options(config)
    }

    var sources: [Int] { [WB_VIEW_ANNOTATED, WB_VIEW_ROLLOUT] }

    func select(_ b: ContrastiveInstance.TokenViews, masks: [UnsafeMutablePointer<UInt8>]) throws {
        for i in 0..<(b.batch * b.ta) { masks[0][i] = b.annotatedCoT[i] != 0 && b.annotatedPresent[i] != 0 ? 1 : 0 }
        for i in 0..<(b.batch * b.tr) { masks[1][i] = b.rolloutCoT[i] != 0 && b.rolloutPresent[i] != 0 ? 1 : 0 }
    }

    func forward(_ b: ContrastiveInstance.Views, host: BuiltinInstance) throws -> Double {
        var rows = 0
        for i in 0..<b.batch where b.rewards[i] >= InfoNCEPositive.rewardThreshold && (b.valid == nil || b.valid![i] != 0) { rows += 1 }
        host.metric("infonce-positive/rows", Double(rows))
        return InfoNCEPositive.forward(batch: b.batch, dim: b.dim, annotated: b.views[0], rollout: b.views[1],
                                       rewards: b.rewards, valid: b.valid, options: options)
    }

    func backward(_ b: ContrastiveInstance.Views, gradLoss: Float, grads: [UnsafeMutablePointer<Float>?]) throws {
        InfoNCEPositive.backward(batch: b.batch, dim: b.dim, annotated: b.views[0], rollout: b.views[1],
                                 rewards: b.rewards, valid: b.valid, options: options, gradLoss: gradLoss,
                                 gradAnnotated: grads[0], gradRollout: grads[1])
    }

    static let descriptor = ContrastiveInstance.makeDescriptor(
        id: id, summary: "CARFT positive InfoNCE: correct rollouts' CoT vs their annotated CoT, other rollouts as negatives",
        keys: keys,
        create: { _, host, n, k, v, out in
            BuiltinCall.create(host, n, k, v, out, specs: InfoNCEPositivePlugin.keys) { config, host in ContrastiveInstance(try InfoNCEPositivePlugin(config), host: host) }
        })
}
