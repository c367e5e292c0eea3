/// Where each sequence of a right-padded [batch, seq] token batch sits once its padding is
/// dropped: row b's tokens are packed rows `offsets[b] ..< offsets[b] + lengths[b]`.
///
/// A real model's RL batch pads every rollout to the longest one, a fifth or more of its token
/// rows; every per-token map (the projections, norms, MLP, adapters) runs on the packed rows
/// only, and attention, which needs each sequence whole, reads each one's slice.
struct PackedRows {
    let batch: Int, seq: Int
    let lengths: [Int]
    let offsets: [Int]
    /// Packed rows in all: the sum of `lengths`.
    let count: Int
    /// Each packed row's position in its sequence.
    let position: [Int]

    /// Every row `seq` long: the packed layout is the padded one.
    init(batch: Int, seq: Int) { self.init(batch: batch, seq: seq, lengths: Array(repeating: seq, count: batch)) }

    init(batch: Int, seq: Int, lengths: [Int]) {
        precondition(lengths.count == batch && lengths.allSatisfy { $0 >= 1 && $0 <= seq },
                     "PackedRows: \(batch) rows of at most \(seq) tokens, each at least 1")
        self.batch = batch
        self.seq = seq
        self.lengths = lengths
        var offsets: [Int] = [], position: [Int] = [], total = 0
        offsets.reserveCapacity(batch)
        position.reserveCapacity(lengths.reduce(0, +))
        for l in lengths {
            offsets.append(total)
            position += 0..<l
            total += l
        }
        self.offsets = offsets
        self.position = position
        count = total
    }

    /// Whether no row is padded (packed index = padded index).
    var isDense: Bool { count == batch * seq }

    /// The packed row of padded flat index b·seq + t, or nil for a padding position.
    @inline(__always)
    func packed(_ padded: Int) -> Int? {
        let b = padded / seq, t = padded % seq
        return b < batch && t < lengths[b] ? offsets[b] + t : nil
    }
}
