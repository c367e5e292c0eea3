// Fuzz target: the GSM8K JSONL layout (one {question, answer} object per line, the answer
// ending in a '#### N' line), read from a file through DatasetLoader.load(spec: "gsm8k:<file>.jsonl")
// exactly as the command line reads it.
// A thrown DataError is the loader refusing bad input: fine.
import Foundation

private let scratch: String = {
    let dir = NSTemporaryDirectory() + "wb-fuzz-gsm8k-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/input.jsonl"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    writeScratch(data, size)
    if let examples = try? DatasetLoader.load(spec: "gsm8k:" + scratch) {
        for e in examples {
            precondition(!e.question.isEmpty, "example \(e.id) has an empty question")
            _ = ReFTFormat.target(cot: e.cots.first ?? "", answer: e.answer)
        }
    }
    return 0
}

/// The input as the whole content of the scratch file (plain POSIX: FileManager's atomic write
/// would cost more than the parse).
private func writeScratch(_ data: UnsafePointer<UInt8>, _ size: Int) {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot open \(scratch) for the fuzz input")
    precondition(size == 0 || write(fd, data, size) == size, "cannot write the fuzz input to \(scratch)")
    close(fd)
}
