import Foundation

/// Rotary position embedding in Hugging Face's "rotate half" convention: within each head,
/// element i pairs with element i + headDim/2. Keeping HF's convention means exported weights
/// work in transformers unchanged (GGUF files store q/k permuted for the interleaved form).
public final class RoPE {
    public let headDim: Int
    public let maxSeqLen: Int
    /// cos and sin tables, [maxSeqLen, headDim/2].
    let cosTable: FloatBuffer
    let sinTable: FloatBuffer

    public init(headDim: Int, maxSeqLen: Int, theta: Float) {
        self.headDim = headDim
        self.maxSeqLen = maxSeqLen
        let half = headDim / 2
        cosTable = FloatBuffer(maxSeqLen * half)
        sinTable = FloatBuffer(maxSeqLen * half)
        for p in 0..<maxSeqLen {
            for i in 0..<half {
                // Angles in Double: at long positions float32 loses the phase.
                let freq = pow(Double(theta), -2.0 * Double(i) / Double(headDim))
                let a = Double(p) * freq
                cosTable[p * half + i] = Float(cos(a))
                sinTable[p * half + i] = Float(sin(a))
            }
        }
    }

    /// Rotates `heads` head vectors of one token, stored contiguously, to position `pos`.
    /// `inverse` applies the transpose rotation, which is the backward pass.
    @inline(__always)
    public func rotate(_ v: UnsafeMutablePointer<Float>, heads: Int, pos: Int, inverse: Bool = false) {
        let half = headDim / 2
        let c = cosTable.ptr + pos * half
        let s = sinTable.ptr + pos * half
        let sign: Float = inverse ? -1 : 1
        for h in 0..<heads {
            let a = v + h * headDim, b = a + half
            for i in 0..<half {
                let x1 = a[i], x2 = b[i], si = sign * s[i]
                a[i] = x1 * c[i] - x2 * si
                b[i] = x2 * c[i] + x1 * si
            }
        }
    }

    /// Applies the rotation to rows of `[batch·seq, heads·headDim]`, token t of each row at
    /// position t.
    public func apply(_ x: UnsafeMutablePointer<Float>, batch: Int, seq: Int, heads: Int, inverse: Bool = false) {
        precondition(seq <= maxSeqLen, "sequence length \(seq) exceeds the model's max_position_embeddings \(maxSeqLen)")
        let width = heads * headDim
        Parallel.forEach(batch * seq, minPerWorker: 64) { n in
            rotate(x + n * width, heads: heads, pos: n % seq, inverse: inverse)
        }
    }

    /// `apply` over packed rows (`PackedRows`): row n is at position `rows.position[n]`.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: PackedRows, heads: Int, inverse: Bool = false) {
        precondition(rows.seq <= maxSeqLen, "sequence length \(rows.seq) exceeds the model's max_position_embeddings \(maxSeqLen)")
        let width = heads * headDim
        rows.position.withUnsafeBufferPointer { position in
            Parallel.forEach(rows.count, minPerWorker: 64) { n in
                rotate(x + n * width, heads: heads, pos: position[n], inverse: inverse)
            }
        }
    }
}
