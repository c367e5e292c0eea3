import Foundation
import Testing
import Engine
@testable import BuiltinPlugins

/// Textbook O(n·m) DP table of LCS lengths.
func textbookLCSLength(_ a: [Int32], _ b: [Int32]) -> Int {
    let n = a.count, m = b.count
    var L = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
    for i in 0..<n { for j in 0..<m {
        L[i + 1][j + 1] = a[i] == b[j] ? L[i][j] + 1 : max(L[i][j + 1], L[i + 1][j])
    } }
    return L[n][m]
}

/// Checks one tokenLCS answer: both sides mark the same number of tokens, that number is the
/// textbook LCS length, and the marked tokens read the same in order (a common subsequence).
func checkLCS(_ a: [Int32], _ b: [Int32], _ label: String) {
    let (inA, inB) = LCS.tokenLCS(a: a, b: b)
    #expect(inA.count == a.count && inB.count == b.count)
    let subA = zip(a, inA).filter { $0.1 }.map { $0.0 }
    let subB = zip(b, inB).filter { $0.1 }.map { $0.0 }
    let expected = textbookLCSLength(a, b)
    #expect(subA.count == expected, "\(label): marked \(subA.count), LCS length \(expected)")
    #expect(subA == subB, "\(label): marked tokens differ between the sides")
    #expect(LCS.length(a: a, b: b) == expected)
}

@Suite struct LCSTests {
    @Test func randomSmallSequencesMatchTextbookDP() {
        var rng = RNG(seed: 1, stream: "lcs")
        for trial in 0..<400 {
            let alphabet = rng.int(in: 1...6)
            let n = rng.int(in: 0...20), m = rng.int(in: 0...20)
            let a = (0..<n).map { _ in Int32(rng.int(in: 0...(alphabet - 1))) }
            let b = (0..<m).map { _ in Int32(rng.int(in: 0...(alphabet - 1))) }
            checkLCS(a, b, "trial \(trial)")
        }
    }

    /// Lengths around the 64-bit word boundaries exercise the carry between words.
    @Test func wordBoundariesMatchTextbookDP() {
        var rng = RNG(seed: 2, stream: "lcs-words")
        for m in [63, 64, 65, 127, 128, 129, 200] {
            for n in [1, 64, 65, 150] {
                let a = (0..<n).map { _ in Int32(rng.int(in: 0...3)) }
                let b = (0..<m).map { _ in Int32(rng.int(in: 0...3)) }
                checkLCS(a, b, "n=\(n) m=\(m)")
            }
        }
    }

    @Test func edgeCases() {
        #expect(LCS.tokenLCS(a: [], b: []) == ([], []))
        let (ea, eb) = LCS.tokenLCS(a: [], b: [1, 2])
        #expect(ea == [] && eb == [false, false])
        let same: [Int32] = [5, 9, 5, 1, 70000]
        let (sa, sb) = LCS.tokenLCS(a: same, b: same)
        #expect(sa.allSatisfy { $0 } && sb.allSatisfy { $0 })
        let (da, db) = LCS.tokenLCS(a: [1, 2, 3], b: [4, 5])
        #expect(!da.contains(true) && !db.contains(true))
        // Large and negative token ids are plain labels.
        let (na, nb) = LCS.tokenLCS(a: [-1, Int32.max, 7], b: [Int32.max, 3, 7])
        #expect(na == [false, true, true] && nb == [true, false, true])
        // A hand example: LCS of "ABCBDAB" and "BDCABA" has length 4.
        let x = "ABCBDAB".unicodeScalars.map { Int32($0.value) }, y = "BDCABA".unicodeScalars.map { Int32($0.value) }
        #expect(LCS.length(a: x, b: y) == 4)
        checkLCS(x, y, "CLRS")
    }

    /// Timing, printed not asserted: 256×256 random tokens over a 50-token vocabulary.
    /// Seen on this machine (release, 2 shared cores): 13–33 µs per call (200 calls averaged; varies with the shared CPU).
    @Test func timing256x256() {
        var rng = RNG(seed: 3, stream: "lcs-timing")
        let a = (0..<256).map { _ in Int32(rng.int(in: 0...49)) }
        let b = (0..<256).map { _ in Int32(rng.int(in: 0...49)) }
        checkLCS(a, b, "256x256")
        let reps = 200
        let t0 = DispatchTime.now().uptimeNanoseconds
        var sink = 0
        for _ in 0..<reps { sink &+= LCS.tokenLCS(a: a, b: b).inA.count }
        let us = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(reps)
        print("LCS 256x256 timing: \(String(format: "%.1f", us)) µs per tokenLCS call (\(sink / reps) tokens)")
        #expect(sink == reps * 256)
    }
}
