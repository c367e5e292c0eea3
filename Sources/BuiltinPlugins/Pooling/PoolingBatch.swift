/// The inputs of a pooling call, as flat row-major buffers with explicit shapes. This mirrors
/// the ABI's pooling batch so the C-ABI wrapper can build one without copying.
///
/// - tokens: [batch × T × dim] token embeddings (CARFT's p_t, pre-ReLU projections).
/// - values: [batch × T] per-token values V_t; only softmax-values pooling reads them, so it
///   may be nil for the others.
/// - mask: [batch × T], 1 = pool this token. An all-zero row pools to a zero vector and gets a
///   zero gradient.
///
/// Every pooling writes whole outputs: `out` is [batch × dim]; in backward, `gradTokens`
/// [batch × T × dim] and `gradValues` [batch × T] are OVERWRITTEN (masked-out entries become 0),
/// and a nil gradient pointer means the caller does not need it.
public struct PoolingBatch {
    public var batch: Int
    public var T: Int
    public var dim: Int
    public var tokens: UnsafePointer<Float>
    public var values: UnsafePointer<Float>?
    public var mask: UnsafePointer<UInt8>

    public init(batch: Int, T: Int, dim: Int, tokens: UnsafePointer<Float>,
                values: UnsafePointer<Float>?, mask: UnsafePointer<UInt8>) {
        self.batch = batch
        self.T = T
        self.dim = dim
        self.tokens = tokens
        self.values = values
        self.mask = mask
    }
}

/// One pooling rule: forward pools each row's masked tokens to one vector; backward is the
/// vector-Jacobian product, recomputing what it needs from the same batch (no saved state).
public protocol PoolingMath {
    /// True when `values` must be non-nil.
    static var needsValues: Bool { get }
    static func forward(_ b: PoolingBatch, out: UnsafeMutablePointer<Float>)
    static func backward(_ b: PoolingBatch, gradOut: UnsafePointer<Float>,
                         gradTokens: UnsafeMutablePointer<Float>?, gradValues: UnsafeMutablePointer<Float>?)
}
