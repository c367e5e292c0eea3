/// Keys and values of every layer for a batch of independent sequences, so decoding a token
/// costs one position's work instead of the whole prefix. Rows may have different lengths:
/// each row grows on its own, and no padding token ever enters a row.
public final class KVCache {
    public let batch: Int
    public let capacity: Int
    let kvDim: Int
    /// Per layer, [batch, capacity, kvDim].
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    /// Tokens stored per row.
    public internal(set) var lengths: [Int]

    public init(config: ModelConfig, batch: Int, capacity: Int) {
        precondition(capacity <= config.maxSeqLen, "KV cache of \(capacity) positions exceeds max_position_embeddings \(config.maxSeqLen)")
        self.batch = batch
        self.capacity = capacity
        kvDim = config.kvDim
        keys = (0..<config.layers).map { _ in FloatBuffer(batch * capacity * config.kvDim) }
        values = (0..<config.layers).map { _ in FloatBuffer(batch * capacity * config.kvDim) }
        lengths = [Int](repeating: 0, count: batch)
    }

    @inline(__always)
    func keyRow(layer: Int, row: Int, pos: Int) -> UnsafeMutablePointer<Float> {
        keys[layer].ptr + (row * capacity + pos) * kvDim
    }

    @inline(__always)
    func valueRow(layer: Int, row: Int, pos: Int) -> UnsafeMutablePointer<Float> {
        values[layer].ptr + (row * capacity + pos) * kvDim
    }
}
