/// Row b's first `length` tokens are the same as row `row`'s first: the passes run them once,
/// in row `row`, and row b's own tokens attend to them there. Rollouts of one question (GRPO's
/// group) share their whole prompt, chat prompts their system message (`TokenBatch.shared`); a
/// row that shares a start cannot be one (`PackedRows`).
public struct SharedStart: Equatable, Sendable {
    public let row: Int
    public let length: Int

    public init(row: Int, length: Int) {
        self.row = row
        self.length = length
    }
}

/// Where each sequence of a right-padded [batch, seq] token batch sits once its padding is
/// dropped: row b's own tokens are packed rows `offsets[b] ..< offsets[b] + ownLength(b)`.
///
/// A real model's RL batch pads every rollout to the longest one, a fifth or more of its token
/// rows; every per-token map (the projections, norms, MLP, adapters) runs on the packed rows
/// only, and attention, which needs each sequence whole, reads each one's slices.
///
/// With `shared`, row b's first `shared[b].length` tokens are not packed at all: they are row
/// `shared[b].row`'s first tokens (`SharedStart`), and row b's own tokens continue from them
/// at position `shared[b].length`.
struct PackedRows {
    let batch: Int, seq: Int
    /// Each row's whole length, a shared start included.
    let lengths: [Int]
    /// Each row's shared start, or nil.
    let shared: [SharedStart?]
    let offsets: [Int]
    /// Packed rows in all: the sum of the rows' own lengths.
    let count: Int
    /// Each packed row's position in its sequence.
    let position: [Int]

    /// Every row `seq` long: the packed layout is the padded one.
    init(batch: Int, seq: Int) { self.init(batch: batch, seq: seq, lengths: Array(repeating: seq, count: batch)) }

    init(batch: Int, seq: Int, lengths: [Int], shared: [SharedStart?]? = nil) {
        precondition(lengths.count == batch && lengths.allSatisfy { $0 >= 1 && $0 <= seq },
                     "PackedRows: \(batch) rows of at most \(seq) tokens, each at least 1")
        let shared = shared ?? Array(repeating: nil, count: batch)
        precondition(shared.count == batch, "PackedRows: \(shared.count) shared starts for \(batch) rows")
        for (b, s) in shared.enumerated() {
            guard let s else { continue }
            precondition(s.row >= 0 && s.row < b && shared[s.row] == nil,
                         "PackedRows: row \(b) shares the start of row \(s.row), which must come earlier and share none")
            precondition(s.length >= 1 && s.length < lengths[b] && s.length <= lengths[s.row],
                         "PackedRows: row \(b)'s shared start of \(s.length) tokens must leave it a token of its own")
        }
        self.batch = batch
        self.seq = seq
        self.lengths = lengths
        self.shared = shared
        var offsets: [Int] = [], position: [Int] = [], total = 0
        offsets.reserveCapacity(batch)
        position.reserveCapacity(lengths.reduce(0, +))
        for b in 0..<batch {
            let start = shared[b]?.length ?? 0
            offsets.append(total)
            position += start..<lengths[b]
            total += lengths[b] - start
        }
        self.offsets = offsets
        self.position = position
        count = total
    }

    /// How many of row b's first tokens are another row's (0: none).
    @inline(__always)
    func start(_ b: Int) -> Int { shared[b]?.length ?? 0 }

    /// Row b's tokens that are packed in its own rows.
    @inline(__always)
    func ownLength(_ b: Int) -> Int { lengths[b] - start(b) }

    /// Whether no row is padded or shared (packed index = padded index).
    var isDense: Bool { count == batch * seq }

    /// Row b's tokens as runs of consecutive packed rows: (its first token `at`, the packed
    /// row holding it, how many): its shared start, if any, then its own tokens.
    func runs(_ b: Int) -> [(at: Int, packed: Int, count: Int)] {
        let own = (at: start(b), packed: offsets[b], count: ownLength(b))
        guard let s = shared[b] else { return [own] }
        return [(0, offsets[s.row], s.length), own]
    }

    /// The packed row holding token t (< lengths[b]) of row b.
    @inline(__always)
    func packed(row b: Int, _ t: Int) -> Int {
        if let s = shared[b], t < s.length { return offsets[s.row] + t }
        return offsets[b] + t - start(b)
    }

    /// The packed row of padded flat index b·seq + t, or nil for a padding position.
    @inline(__always)
    func packed(_ padded: Int) -> Int? {
        let b = padded / seq, t = padded % seq
        return b < batch && t < lengths[b] ? packed(row: b, t) : nil
    }
}
