/// The merge list as a lookup from an adjacent pair of token ids to the pair's rank (its line
/// in the merge list; lower merges first) and the id of the merged token.
struct BPEMerges: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var id: Int32
    }

    private var table: [UInt64: Merge] = [:]

    var count: Int { table.count }

    /// Parses GGUF's "left right" lines. Both halves and their concatenation must be tokens,
    /// as Hugging Face requires: a merge producing an unknown token could never be emitted.
    init(_ lines: [String], ids: [String: Int]) throws {
        table.reserveCapacity(lines.count)
        for (rank, line) in lines.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw BPETokenizerError(
                    .malformedMerge,
                    "merge \(rank + 1) of \(lines.count) is \(debugQuote(line)), not two tokens separated by one space",
                    "check that tokenizer.ggml.merges holds 'left right' pairs in byte-level spelling (a space is 'Ġ')")
            }
            let left = String(parts[0]), right = String(parts[1])
            for token in [left, right, left + right] where ids[token] == nil {
                throw BPETokenizerError(
                    .mergeNotInVocabulary,
                    "merge \(rank + 1) \(debugQuote(line)) needs token \(debugQuote(token)), which is not in the vocabulary",
                    "use the merges and tokens of the same model")
            }
            let key = Self.key(Int32(ids[left]!), Int32(ids[right]!))
            // A repeated pair keeps its first (lowest) rank, as llama.cpp does; real lists have none.
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), id: Int32(ids[left + right]!)) }
        }
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always)
    func merge(_ a: Int32, _ b: Int32) -> Merge? { table[Self.key(a, b)] }

    /// Merges `symbols` in place until no adjacent pair is in the list. Each step merges the
    /// lowest-ranked pair, the leftmost on ties: Hugging Face's order, which can differ from
    /// "merge every occurrence of the best pair" when a merge list is not self-consistent.
    func apply(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        // ranks[i] and merged[i] describe the pair (symbols[i], symbols[i + 1]).
        var ranks: [Int32] = [], merged: [Int32] = []
        ranks.reserveCapacity(symbols.count - 1)
        merged.reserveCapacity(symbols.count - 1)
        for i in 0..<(symbols.count - 1) {
            let m = merge(symbols[i], symbols[i + 1])
            ranks.append(m?.rank ?? .max)
            merged.append(m?.id ?? -1)
        }
        while !ranks.isEmpty {
            var best = 0
            for i in 1..<ranks.count where ranks[i] < ranks[best] { best = i }
            guard ranks[best] != .max else { return }
            symbols[best] = merged[best]
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            merged.remove(at: best)
            // Only the pairs touching the new symbol changed.
            if best > 0 {
                let m = merge(symbols[best - 1], symbols[best])
                ranks[best - 1] = m?.rank ?? .max
                merged[best - 1] = m?.id ?? -1
            }
            if best < ranks.count {
                let m = merge(symbols[best], symbols[best + 1])
                ranks[best] = m?.rank ?? .max
                merged[best] = m?.id ?? -1
            }
        }
    }
}

/// A token or merge line as Swift would write it, so invisible characters show in messages.
func debugQuote(_ s: String) -> String { String(reflecting: s) }
