/// The three token masks of CARFT's negative signal, from the token ids and CoT masks of the
/// rollout and annotated sequences: [rollout tokens in the LCS, annotated tokens not in the
/// LCS, rollout tokens not in the LCS].
public enum LCSViews {
    public enum Scope: String, Sendable, CaseIterable {
        /// Default: the LCS runs over each side's CoT tokens only (taken in order), and the
        /// views cover CoT tokens only.
        case cot
        /// Reference code: the LCS runs over the whole padded sequence, prompt and padding
        /// included, so the prompt is always "common" and lands in the LCS view; the views
        /// cover every position of the row.
        case sequence
    }

    /// Per-row flags returned with the masks.
    public struct Result {
        /// [batch]: the LCS length of each row.
        public var lcsLength: [Int]
        /// [batch]: 1 when all three views of the row are non-empty. Passing this as (part of)
        /// the contrastive `valid` mask keeps zero embeddings out of the loss.
        public var usable: [UInt8]
    }

    /// Writes the three view masks (overwritten, 0/1):
    /// rolloutLCS [batch×Tr], annotatedExc [batch×Ta], rolloutExc [batch×Tr].
    /// rolloutIds / rolloutCot are [batch×Tr]; annotatedIds / annotatedCot are [batch×Ta].
    @discardableResult
    public static func masks(batch: Int, rolloutT Tr: Int, annotatedT Ta: Int,
                             rolloutIds: UnsafePointer<Int32>, rolloutCot: UnsafePointer<UInt8>,
                             annotatedIds: UnsafePointer<Int32>, annotatedCot: UnsafePointer<UInt8>,
                             scope: Scope = .cot,
                             rolloutLCS: UnsafeMutablePointer<UInt8>, annotatedExc: UnsafeMutablePointer<UInt8>,
                             rolloutExc: UnsafeMutablePointer<UInt8>) -> Result {
        var result = Result(lcsLength: [Int](repeating: 0, count: batch), usable: [UInt8](repeating: 0, count: batch))
        // Scratch reused across rows: gathered token ids, their positions, and LCS membership.
        var ra = [Int32](repeating: 0, count: Tr), aa = [Int32](repeating: 0, count: Ta)
        var rpos = [Int](repeating: 0, count: Tr), apos = [Int](repeating: 0, count: Ta)
        var inR = [Bool](repeating: false, count: Tr), inA = [Bool](repeating: false, count: Ta)
        for row in 0..<batch {
            let rIds = rolloutIds + row * Tr, rCot = rolloutCot + row * Tr
            let aIds = annotatedIds + row * Ta, aCot = annotatedCot + row * Ta
            let oL = rolloutLCS + row * Tr, oAE = annotatedExc + row * Ta, oRE = rolloutExc + row * Tr
            oL.update(repeating: 0, count: Tr)
            oRE.update(repeating: 0, count: Tr)
            oAE.update(repeating: 0, count: Ta)
            var nr = 0, na = 0
            for t in 0..<Tr where scope == .sequence || rCot[t] != 0 { ra[nr] = rIds[t]; rpos[nr] = t; nr += 1 }
            for t in 0..<Ta where scope == .sequence || aCot[t] != 0 { aa[na] = aIds[t]; apos[na] = t; na += 1 }
            let len = ra.withUnsafeBufferPointer { pr in
                aa.withUnsafeBufferPointer { pa in
                    inR.withUnsafeMutableBufferPointer { br in
                        inA.withUnsafeMutableBufferPointer { ba in
                            LCS.mark(a: UnsafeBufferPointer(rebasing: pr[0..<nr]), b: UnsafeBufferPointer(rebasing: pa[0..<na]),
                                     inA: UnsafeMutableBufferPointer(rebasing: br[0..<nr]),
                                     inB: UnsafeMutableBufferPointer(rebasing: ba[0..<na]))
                        }
                    }
                }
            }
            var nL = 0, nRE = 0, nAE = 0
            for k in 0..<nr {
                if inR[k] { oL[rpos[k]] = 1; nL += 1 } else { oRE[rpos[k]] = 1; nRE += 1 }
            }
            for k in 0..<na where !inA[k] { oAE[apos[k]] = 1; nAE += 1 }
            result.lcsLength[row] = len
            result.usable[row] = (nL > 0 && nRE > 0 && nAE > 0) ? 1 : 0
        }
        return result
    }
}
