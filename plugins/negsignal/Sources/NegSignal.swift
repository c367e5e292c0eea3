import PluginABI

/// One instance: its options, the wb_host it was created with (for error messages and
/// metrics), and the LCS table reused between select calls. Handed to the host as an opaque
/// pointer (Unmanaged, retained by create, released by destroy).
final class NegSignal {
    let options: Options
    let host: UnsafePointer<wb_host>?
    var lcs = LCSTable()

    init(options: Options, host: UnsafePointer<wb_host>?) {
        self.options = options
        self.host = host
    }

    struct Failure: Error { var status: Int; var message: String }

    /// Views: 0 = rollout tokens in the LCS, 1 = annotated tokens not in it, 2 = rollout tokens not in it.
    static let sources = [WB_VIEW_ROLLOUT, WB_VIEW_ANNOTATED, WB_VIEW_ROLLOUT]

    /// The tokens of each row the LCS runs over are the present CoT tokens (lcs-scope=cot) or
    /// all present tokens, prompt included (lcs-scope=sequence); padding never joins a view.
    func select(_ b: wb_token_views_batch, _ out: UnsafePointer<UnsafeMutablePointer<UInt8>?>) throws {
        let (n, tr, ta) = (Int(b.batch), Int(b.rollout_tokens), Int(b.annotated_tokens))
        if tr > 0 && (b.rollout_ids == nil || b.rollout_present == nil || b.rollout_cot == nil)
            || ta > 0 && (b.annotated_ids == nil || b.annotated_present == nil || b.annotated_cot == nil) {
            throw Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "select got NULL token ids or masks")
        }
        for v in 0..<3 where out[v] == nil && (Self.sources[v] == WB_VIEW_ROLLOUT ? tr : ta) > 0 {
            throw Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "select got a NULL out_masks[\(v)]")
        }
        var ra = [Int32](repeating: 0, count: tr), aa = [Int32](repeating: 0, count: ta)
        var rpos = [Int](repeating: 0, count: tr), apos = [Int](repeating: 0, count: ta)
        var inR = [Bool](repeating: false, count: tr), inA = [Bool](repeating: false, count: ta)
        let sequence = options.scope == .sequence
        for row in 0..<n {
            var nr = 0, na = 0
            for t in 0..<tr {
                let i = row * tr + t
                out[0]![i] = 0; out[2]![i] = 0
                if b.rollout_present![i] != 0 && (sequence || b.rollout_cot![i] != 0) { ra[nr] = b.rollout_ids![i]; rpos[nr] = t; nr += 1 }
            }
            for t in 0..<ta {
                let i = row * ta + t
                out[1]![i] = 0
                if b.annotated_present![i] != 0 && (sequence || b.annotated_cot![i] != 0) { aa[na] = b.annotated_ids![i]; apos[na] = t; na += 1 }
            }
            ra.withUnsafeBufferPointer { r in aa.withUnsafeBufferPointer { a in
                inR.withUnsafeMutableBufferPointer { ir in inA.withUnsafeMutableBufferPointer { ia in
                    _ = lcs.mark(UnsafeBufferPointer(rebasing: r[0..<nr]), UnsafeBufferPointer(rebasing: a[0..<na]),
                                 inA: UnsafeMutableBufferPointer(rebasing: ir[0..<nr]), inB: UnsafeMutableBufferPointer(rebasing: ia[0..<na]))
                } }
            } }
            for k in 0..<nr { out[inR[k] ? 0 : 2]![row * tr + rpos[k]] = 1 }
            for k in 0..<na where !inA[k] { out[1]![row * ta + apos[k]] = 1 }
        }
    }

    /// The loss of a checked batch. A row is usable when it is valid and none of its three
    /// views is an exact zero vector (an empty view pools to zero and has no direction); other
    /// rows are neither terms nor candidates and get zero gradient.
    func loss(_ b: wb_contrastive_batch) throws -> NegativeInfoNCE {
        guard b.view_count == 3 else {
            throw Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "the batch has \(b.view_count) views; this loss has 3")
        }
        let (n, d) = (Int(b.batch), Int(b.dim))
        guard let views = b.views, let v0 = views[0], let v1 = views[1], let v2 = views[2], let rewards = b.rewards else {
            throw Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "views and rewards must not be NULL")
        }
        let usable = (0..<n).map { i in
            (b.valid == nil || b.valid![i] != 0) && [v0, v1, v2].allSatisfy { v in (0..<d).contains { v[i * d + $0] != 0 } }
        }
        let rows = (0..<n).map { usable[$0] && rewards[$0] < 1 }
        return NegativeInfoNCE(options: options, batch: n, dim: d, anchor: v0, positive: v1, candidates: v2, rows: rows, usable: usable)
    }

    func report(_ message: String) {
        guard let host, let sink = host.pointee.error else { return }
        message.withCString { sink(host, $0) }
    }

    /// Runs a call on the instance behind `p`; a thrown Failure becomes its status and message.
    static func call(_ p: UnsafeRawPointer?, _ body: (NegSignal) throws -> Void) -> wb_status {
        guard let p else { return wb_status(WB_ERROR_INVALID_ARGUMENT) }
        let me = Unmanaged<NegSignal>.fromOpaque(p).takeUnretainedValue()
        do {
            try body(me)
            return wb_status(WB_OK)
        } catch let f as Failure {
            me.report(f.message)
            return wb_status(f.status)
        } catch {
            me.report("\(error)")
            return wb_status(WB_ERROR)
        }
    }
}

/// Size check of a batch struct (WB_HAS_FIELD for the last 1.0 field).
func covers<S, F>(_ p: UnsafePointer<S>, _ field: KeyPath<S, F>) -> Bool {
    Int(UnsafeRawPointer(p).load(as: UInt32.self)) >= MemoryLayout<S>.offset(of: field)! + MemoryLayout<F>.size
}

let functions = wb_contrastive_functions(
    struct_size: UInt32(MemoryLayout<wb_contrastive_functions>.size), reserved: 0,
    view_count: { _ in 3 },
    view_source: { _, view in view < 3 ? UInt32(NegSignal.sources[Int(view)]) : 0 },
    select: { instance, batch, out in
        NegSignal.call(instance) { me in
            guard let batch, covers(batch, \wb_token_views_batch.annotated_cot) else {
                throw NegSignal.Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "select got a NULL or too small wb_token_views_batch")
            }
            guard batch.pointee.batch > 0 else { return }
            guard let out else { throw NegSignal.Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "select got a NULL out_masks") }
            try me.select(batch.pointee, out)
        }
    },
    forward: { instance, batch, out in
        NegSignal.call(instance) { me in
            guard let batch, covers(batch, \wb_contrastive_batch.valid), let out else {
                throw NegSignal.Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "forward got a NULL or too small batch, or a NULL out_loss")
            }
            out.pointee = batch.pointee.batch == 0 ? 0 : try me.loss(batch.pointee).run()
        }
    },
    backward: { instance, batch, gradLoss, grads in
        NegSignal.call(instance) { me in
            guard let batch, covers(batch, \wb_contrastive_batch.valid) else {
                throw NegSignal.Failure(status: WB_ERROR_INVALID_ARGUMENT, message: "backward got a NULL or too small batch")
            }
            guard let grads, batch.pointee.batch > 0 else { return }
            _ = try me.loss(batch.pointee).run(gradLoss: Double(gradLoss), grads: [grads[0], grads[1], grads[2]])
        }
    })
