import PluginABI

/// Where a contrastive view's tokens come from (WB_VIEW_*).
public enum PluginViewSource: Int, Sendable, CustomStringConvertible {
    case rollout = 1, annotated = 2

    public var description: String { self == .rollout ? "rollout" : "annotated" }
}

/// The token sequences a contrastive plugin selects its views from. Rows are padded to
/// rolloutTokens (T_r) and annotatedTokens (T_a); the pointers must stay valid for the call.
public struct TokenViewsInput {
    public var batch: Int
    public var rolloutTokens: Int
    public var annotatedTokens: Int
    /// [batch×T_r] ids, 1 = a real token, 1 = a CoT token.
    public var rolloutIDs: UnsafePointer<Int32>
    public var rolloutPresent: UnsafePointer<UInt8>
    public var rolloutCoT: UnsafePointer<UInt8>
    /// [batch×T_a], the same for the annotated sequences.
    public var annotatedIDs: UnsafePointer<Int32>
    public var annotatedPresent: UnsafePointer<UInt8>
    public var annotatedCoT: UnsafePointer<UInt8>

    public init(batch: Int, rolloutTokens: Int, annotatedTokens: Int,
                rolloutIDs: UnsafePointer<Int32>, rolloutPresent: UnsafePointer<UInt8>, rolloutCoT: UnsafePointer<UInt8>,
                annotatedIDs: UnsafePointer<Int32>, annotatedPresent: UnsafePointer<UInt8>, annotatedCoT: UnsafePointer<UInt8>) {
        self.batch = batch
        self.rolloutTokens = rolloutTokens
        self.annotatedTokens = annotatedTokens
        self.rolloutIDs = rolloutIDs
        self.rolloutPresent = rolloutPresent
        self.rolloutCoT = rolloutCoT
        self.annotatedIDs = annotatedIDs
        self.annotatedPresent = annotatedPresent
        self.annotatedCoT = annotatedCoT
    }

    /// Tokens per row of a view from `source`.
    public func tokens(_ source: PluginViewSource) -> Int { source == .rollout ? rolloutTokens : annotatedTokens }
}

/// The pooled views a contrastive loss is computed from; pointers valid for the call.
public struct ContrastiveInput {
    public var batch: Int
    public var dim: Int
    /// One [batch×dim] embedding per view, in the plugin's view order.
    public var views: [UnsafePointer<Float>]
    /// [batch] rollout rewards.
    public var rewards: UnsafePointer<Float>
    /// [batch] 1 = a real row, 0 = padding.
    public var valid: UnsafePointer<UInt8>

    public init(batch: Int, dim: Int, views: [UnsafePointer<Float>], rewards: UnsafePointer<Float>, valid: UnsafePointer<UInt8>) {
        self.batch = batch
        self.dim = dim
        self.views = views
        self.rewards = rewards
        self.valid = valid
    }

    func withABI<R>(_ body: (UnsafePointer<wb_contrastive_batch>) throws -> R) rethrows -> R {
        let pointers: [UnsafePointer<Float>?] = views
        return try pointers.withUnsafeBufferPointer { v in
            var b = wb_contrastive_batch(struct_size: ABIStruct.size(wb_contrastive_batch.self), batch: UInt32(batch), dim: UInt32(dim),
                                         view_count: UInt32(views.count), views: v.baseAddress, rewards: rewards, valid: valid)
            return try body(&b)
        }
    }
}

/// A contrastive-loss plugin: chooses token views, then computes a loss over their pooled
/// embeddings and its gradient with respect to each view.
public final class PluginContrastiveLoss {
    public let instance: PluginInstance
    private let functions: wb_contrastive_functions
    /// Each view's token source, in view order; fixed for the instance's life (header rule).
    public let viewSources: [PluginViewSource]

    public var name: String { instance.descriptor.id }
    public var viewCount: Int { viewSources.count }

    public init(_ instance: PluginInstance) throws {
        guard let f = instance.descriptor.contrastiveFunctions else {
            throw instance.descriptor.error("is a \(instance.descriptor.kind) plugin, not a contrastive loss", remedy: "pass a contrastive plugin here")
        }
        self.instance = instance
        functions = f
        let count = Int(PluginCallRecord.during(instance.descriptor, "view_count") { f.view_count!(instance.handle) })
        guard (1...64).contains(count) else {
            throw instance.descriptor.error("view_count returned \(count); a contrastive plugin has between 1 and 64 views", remedy: "fix view_count in the plugin")
        }
        viewSources = try (0..<count).map { v in
            let s = PluginCallRecord.during(instance.descriptor, "view_source") { f.view_source!(instance.handle, UInt32(v)) }
            guard let source = PluginViewSource(rawValue: Int(s)) else {
                throw instance.descriptor.error("view_source(\(v)) returned \(s); it must be WB_VIEW_ROLLOUT (1) or WB_VIEW_ANNOTATED (2)",
                                                remedy: "fix view_source in the plugin")
            }
            return source
        }
    }

    public convenience init(_ descriptor: PluginDescriptor, config: [String: String] = [:]) throws {
        try self.init(PluginInstance(descriptor, config: config))
    }

    /// Writes each view's token mask into masks[v] ([batch×T_source(v)], host-allocated).
    public func select(_ input: TokenViewsInput, masks: [UnsafeMutablePointer<UInt8>]) throws {
        precondition(masks.count == viewCount, "PluginContrastiveLoss.select: \(masks.count) masks for \(viewCount) views")
        var b = wb_token_views_batch(struct_size: ABIStruct.size(wb_token_views_batch.self), batch: UInt32(input.batch),
                                     rollout_tokens: UInt32(input.rolloutTokens), annotated_tokens: UInt32(input.annotatedTokens),
                                     rollout_ids: input.rolloutIDs, rollout_present: input.rolloutPresent, rollout_cot: input.rolloutCoT,
                                     annotated_ids: input.annotatedIDs, annotated_present: input.annotatedPresent, annotated_cot: input.annotatedCoT)
        let pointers: [UnsafeMutablePointer<UInt8>?] = masks
        try pointers.withUnsafeBufferPointer { m in
            try instance.call("select") { functions.select!(instance.handle, &b, m.baseAddress) }
        }
        // A mask entry other than 0/1 would silently weight a token when pooled.
        for (v, mask) in masks.enumerated() {
            for i in 0..<(input.batch * input.tokens(viewSources[v])) where mask[i] > 1 {
                throw instance.descriptor.error("select wrote \(mask[i]) into out_masks[\(v)][\(i)]; masks hold 0 or 1", remedy: "fix select in the plugin")
            }
        }
    }

    /// select into fresh arrays: one [batch×T_source(v)] mask per view. The arrays start filled
    /// with `fill` (the checker uses a value select must never write, to catch skipped entries).
    public func select(_ input: TokenViewsInput, fill: UInt8 = 0) throws -> [[UInt8]] {
        let buffers = viewSources.map { UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, input.batch * input.tokens($0))) }
        defer { buffers.forEach { $0.deallocate() } }
        for (v, p) in buffers.enumerated() { p.initialize(repeating: fill, count: max(1, input.batch * input.tokens(viewSources[v]))) }
        try select(input, masks: buffers)
        return buffers.enumerated().map { v, p in Array(UnsafeBufferPointer(start: p, count: input.batch * input.tokens(viewSources[v]))) }
    }

    /// The scalar loss.
    public func forward(_ input: ContrastiveInput) throws -> Double {
        precondition(input.views.count == viewCount, "PluginContrastiveLoss.forward: \(input.views.count) views for \(viewCount)")
        var loss = 0.0
        try input.withABI { b in
            try instance.call("forward") { functions.forward!(instance.handle, b, &loss) }
        }
        guard loss.isFinite else {
            throw instance.descriptor.error("forward wrote \(loss.isNaN ? "NaN" : "Inf") into out_loss",
                                            remedy: "the plugin's forward has a numerical bug (division by zero, log of 0, overflow?)")
        }
        return loss
    }

    /// Overwrites gradViews[v] ([batch×dim], nil: not needed) with the gradient of gradLoss × loss.
    public func backward(_ input: ContrastiveInput, gradLoss: Float, gradViews: [UnsafeMutablePointer<Float>?]) throws {
        precondition(gradViews.count == viewCount, "PluginContrastiveLoss.backward: \(gradViews.count) gradients for \(viewCount) views")
        try input.withABI { b in
            try gradViews.withUnsafeBufferPointer { g in
                try instance.call("backward") { functions.backward!(instance.handle, b, gradLoss, g.baseAddress) }
            }
        }
        for (v, g) in gradViews.enumerated() {
            if let g { try instance.checkFinite(g, count: input.batch * input.dim, call: "backward", output: "grad_views[\(v)]") }
        }
    }
}
