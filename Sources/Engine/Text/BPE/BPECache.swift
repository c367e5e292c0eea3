import Foundation

/// Merge results by piece. Text repeats the same words constantly, so after warm-up nearly
/// every piece is a lookup instead of a merge loop. Shared by copies of a tokenizer and safe
/// across threads (the tokenizer is `Sendable` and trainers encode from several tasks).
final class BPECache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int32]] = [:]
    /// Bounds memory on unbounded input (random text, long generations); emptying it all at
    /// once is crude but keeps lookups free of bookkeeping, and common words return quickly.
    let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    func ids(for piece: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[piece]
    }

    func store(_ ids: [Int32], for piece: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[piece] = ids
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}
