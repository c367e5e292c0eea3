// Fuzz target: the GSM8K JSONL layout (one {question, answer} object per line, the answer
// ending in a '#### N' line).
private let scratch = ScratchFile(target: "gsm8k", fileName: "input.jsonl")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzDataFile(format: "gsm8k", scratch: scratch, data, size)
    return 0
}
