// Fuzz target: SVAMP's own JSONL layout (one {Body, Question, Answer, ID} object per line).
private let scratch = ScratchFile(target: "svamp", fileName: "input.jsonl")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzDataFile(format: "svamp", scratch: scratch, data, size)
    return 0
}
