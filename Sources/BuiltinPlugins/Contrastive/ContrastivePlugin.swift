import PluginABI

/// What a built-in contrastive loss computes: it declares its views, selects their token masks,
/// and computes the loss and its view gradients from the pooled views.
protocol ContrastiveRule {
    /// WB_VIEW_* per view, fixed for the instance's life.
    var sources: [Int] { get }
    func select(_ b: ContrastiveInstance.TokenViews, masks: [UnsafeMutablePointer<UInt8>]) throws
    /// `host` takes the loss's metrics.
    func forward(_ b: ContrastiveInstance.Views, host: BuiltinInstance) throws -> Double
    func backward(_ b: ContrastiveInstance.Views, gradLoss: Float, grads: [UnsafeMutablePointer<Float>?]) throws
}

/// A built-in contrastive loss's instance: its rule behind the ABI's calls, with the checks of
/// the ABI batches shared here.
final class ContrastiveInstance: BuiltinInstance {
    let rule: any ContrastiveRule
    var sources: [Int] { rule.sources }

    init(_ rule: any ContrastiveRule, host: UnsafePointer<wb_host>?) {
        self.rule = rule
        super.init(host: host)
    }

    /// The checked token-views batch. `present` and `cot` masks are combined, so views never
    /// hold padding even when a host's CoT mask overlaps it.
    struct TokenViews {
        var batch: Int, tr: Int, ta: Int
        var rolloutIDs: UnsafePointer<Int32>, rolloutPresent: UnsafePointer<UInt8>, rolloutCoT: UnsafePointer<UInt8>
        var annotatedIDs: UnsafePointer<Int32>, annotatedPresent: UnsafePointer<UInt8>, annotatedCoT: UnsafePointer<UInt8>
    }

    /// The checked contrastive batch.
    struct Views {
        var batch: Int, dim: Int
        var views: [UnsafePointer<Float>]
        var rewards: UnsafePointer<Float>
        /// nil = every row is real.
        var valid: UnsafePointer<UInt8>?
    }

    private static let dummy = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

    func tokenViews(_ p: UnsafePointer<wb_token_views_batch>?, _ out: UnsafePointer<UnsafeMutablePointer<UInt8>?>?) throws -> (TokenViews, [UnsafeMutablePointer<UInt8>])? {
        guard let p else { throw PluginFailure.invalid("select got a NULL batch") }
        try BuiltinCall.require(p, covers: \wb_token_views_batch.annotated_cot, "wb_token_views_batch")
        let b = p.pointee
        let (n, tr, ta) = (Int(b.batch), Int(b.rollout_tokens), Int(b.annotated_tokens))
        guard n > 0 else { return nil }
        guard let out else { throw PluginFailure.invalid("select got a NULL out_masks") }
        let masks = try sources.indices.map { v -> UnsafeMutablePointer<UInt8> in
            let t = sources[v] == WB_VIEW_ROLLOUT ? tr : ta
            if t == 0 { return Self.dummy }
            guard let m = out[v] else { throw PluginFailure.invalid("select got a NULL out_masks[\(v)]") }
            return m
        }
        // An empty side still needs non-NULL pointers for the Math routines; nothing is read.
        func need<T>(_ x: UnsafePointer<T>?, _ t: Int, _ name: String) throws -> UnsafePointer<T> {
            if let x { return x }
            guard t == 0 else { throw PluginFailure.invalid("select got a NULL \(name)") }
            return UnsafeRawPointer(Self.dummy).assumingMemoryBound(to: T.self)
        }
        let views = TokenViews(batch: n, tr: tr, ta: ta,
                               rolloutIDs: try need(b.rollout_ids, tr, "rollout_ids"),
                               rolloutPresent: try need(b.rollout_present, tr, "rollout_present"),
                               rolloutCoT: try need(b.rollout_cot, tr, "rollout_cot"),
                               annotatedIDs: try need(b.annotated_ids, ta, "annotated_ids"),
                               annotatedPresent: try need(b.annotated_present, ta, "annotated_present"),
                               annotatedCoT: try need(b.annotated_cot, ta, "annotated_cot"))
        return (views, masks)
    }

    func views(_ p: UnsafePointer<wb_contrastive_batch>?) throws -> Views? {
        guard let p else { throw PluginFailure.invalid("got a NULL batch") }
        try BuiltinCall.require(p, covers: \wb_contrastive_batch.valid, "wb_contrastive_batch")
        let b = p.pointee
        guard Int(b.view_count) == sources.count else {
            throw PluginFailure.invalid("the batch has \(b.view_count) views, but this loss declares \(sources.count)")
        }
        let (n, d) = (Int(b.batch), Int(b.dim))
        guard n > 0 else { return nil }
        guard let list = b.views, let rewards = b.rewards else { throw PluginFailure.invalid("views and rewards must not be NULL") }
        let views = try (0..<sources.count).map { v -> UnsafePointer<Float> in
            guard let x = list[v] else { throw PluginFailure.invalid("views[\(v)] is NULL") }
            return x
        }
        return Views(batch: n, dim: d, views: views, rewards: rewards, valid: b.valid)
    }

    /// The function table both contrastive built-ins share.
    static let functions: UnsafeRawPointer = UnsafeRawPointer(CMemory.keep(wb_contrastive_functions(
        struct_size: UInt32(MemoryLayout<wb_contrastive_functions>.size), reserved: 0,
        view_count: { instance in
            UInt32(BuiltinCall.object(instance, as: ContrastiveInstance.self)?.sources.count ?? 0)
        },
        view_source: { instance, view in
            guard let s = BuiltinCall.object(instance, as: ContrastiveInstance.self)?.sources, Int(view) < s.count else { return 0 }
            return UInt32(s[Int(view)])
        },
        select: { instance, batch, out in
            BuiltinCall.run(instance, as: ContrastiveInstance.self) { c in
                guard let (views, masks) = try c.tokenViews(batch, out) else { return }
                try c.rule.select(views, masks: masks)
            }
        },
        forward: { instance, batch, out in
            BuiltinCall.run(instance, as: ContrastiveInstance.self) { c in
                guard let out else { throw PluginFailure.invalid("forward got a NULL out_loss") }
                guard let views = try c.views(batch) else { out.pointee = 0; return }
                out.pointee = try c.rule.forward(views, host: c)
            }
        },
        backward: { instance, batch, gradLoss, grads in
            BuiltinCall.run(instance, as: ContrastiveInstance.self) { c in
                guard let grads, let views = try c.views(batch) else { return }
                try c.rule.backward(views, gradLoss: gradLoss, grads: (0..<c.sources.count).map { grads[$0] })
            }
        })))

    /// The default `detach-denominator=true` is a stop-gradient (the reference code's), so
    /// backward is not the gradient of forward; with it off it is. Both built-ins say so through
    /// WB_EXT_GRADIENT_CHECK_CONFIG, and `workbench plugin check` compares the full gradient.
    static let gradientCheckConfig = UnsafeRawPointer(CMemory.string("detach-denominator=false"))

    static let getExtension: GetExtensionFunction = { _, id in
        guard let id, String(cString: id) == WB_EXT_GRADIENT_CHECK_CONFIG else { return nil }
        return ContrastiveInstance.gradientCheckConfig
    }

    static func makeDescriptor(id: String, summary: String, keys: [ConfigKeySpec], create: CreateFunction) -> UnsafePointer<wb_plugin_descriptor> {
        DescriptorBuilder.descriptor(kind: WB_KIND_CONTRASTIVE, id: id, summary: summary, keys: keys, create: create,
                                     functions: functions, getExtension: getExtension)
    }
}
