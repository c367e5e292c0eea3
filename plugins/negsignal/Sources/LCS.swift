/// Token-level longest common subsequence by the textbook dynamic programme: O(n·m) time, one
/// (n+1)×(m+1) table of Int32 kept between calls (an instance is used by one thread at a time),
/// then a traceback from the end that prefers matching late tokens of both sides.
struct LCSTable {
    private var table: [Int32] = []

    /// Marks the tokens of `a` and `b` that belong to one longest common subsequence
    /// (inA / inB are overwritten) and returns its length.
    mutating func mark(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>,
                       inA: UnsafeMutableBufferPointer<Bool>, inB: UnsafeMutableBufferPointer<Bool>) -> Int {
        let n = a.count, m = b.count
        for i in 0..<n { inA[i] = false }
        for j in 0..<m { inB[j] = false }
        guard n > 0, m > 0 else { return 0 }
        let w = m + 1
        if table.count < (n + 1) * w { table = [Int32](repeating: 0, count: (n + 1) * w) }
        return table.withUnsafeMutableBufferPointer { t -> Int in
            let L = t.baseAddress!
            for j in 0...m { L[j] = 0 }
            for i in 1...n {
                let prev = L + (i - 1) * w, cur = L + i * w
                let ai = a[i - 1]
                cur[0] = 0
                for j in 1...m {
                    cur[j] = ai == b[j - 1] ? prev[j - 1] + 1 : max(prev[j], cur[j - 1])
                }
            }
            var i = n, j = m
            var len = Int(L[n * w + m])
            let total = len
            while i > 0 && j > 0 && len > 0 {
                if a[i - 1] == b[j - 1] {
                    inA[i - 1] = true
                    inB[j - 1] = true
                    i -= 1; j -= 1; len -= 1
                } else if Int(L[(i - 1) * w + j]) == len {
                    i -= 1
                } else {
                    j -= 1
                }
            }
            return total
        }
    }
}
