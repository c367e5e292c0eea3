/// Keys and values of every layer for a batch of independent sequences, so decoding a token
/// costs one position's work instead of the whole prefix. Rows may have different lengths:
/// each row grows on its own, and no padding token ever enters a row.
///
/// Layout per layer: [batch, kvHeads, capacity, headDim]. One head's keys (or values) of one row
/// are a contiguous [positions, headDim] matrix, so attention reads them as one dense operand
/// in address order rather than a strided slice of interleaved heads.
public final class KVCache {
    public let batch: Int
    public let capacity: Int
    let kvHeads: Int
    let headDim: Int
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    /// Tokens stored per row.
    public internal(set) var lengths: [Int]

    public init(config: ModelConfig, batch: Int, capacity: Int) {
        precondition(capacity <= config.maxSeqLen, "KV cache of \(capacity) positions exceeds max_position_embeddings \(config.maxSeqLen)")
        self.batch = batch
        self.capacity = capacity
        kvHeads = config.kvHeads
        headDim = config.headDim
        keys = (0..<config.layers).map { _ in FloatBuffer(batch * capacity * config.kvDim) }
        values = (0..<config.layers).map { _ in FloatBuffer(batch * capacity * config.kvDim) }
        lengths = [Int](repeating: 0, count: batch)
    }

    /// Row `to` becomes a copy of row `from` (its keys, values and length): two rows with one
    /// prompt, which then ran once.
    func copyRow(_ from: Int, to: Int) {
        let n = lengths[from] * headDim
        for l in keys.indices {
            for g in 0..<kvHeads {
                self.keys(layer: l, row: to, head: g).update(from: self.keys(layer: l, row: from, head: g), count: n)
                self.values(layer: l, row: to, head: g).update(from: self.values(layer: l, row: from, head: g), count: n)
            }
        }
        lengths[to] = lengths[from]
    }

    /// Keys of one row and kv head: [capacity, headDim], position-major.
    @inline(__always)
    func keys(layer: Int, row: Int, head: Int) -> UnsafeMutablePointer<Float> {
        keys[layer].ptr + ((row * kvHeads + head) * capacity) * headDim
    }

    /// Values of one row and kv head: [capacity, headDim], position-major.
    @inline(__always)
    func values(layer: Int, row: Int, head: Int) -> UnsafeMutablePointer<Float> {
        values[layer].ptr + ((row * kvHeads + head) * capacity) * headDim
    }
}
