// Fuzz target: the ReFT JSON layout (one array of {question, answer_value, answer_cot, item_id}
// objects).
private let scratch = ScratchFile(target: "reft", fileName: "input.json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzDataFile(format: "reft", scratch: scratch, data, size)
    return 0
}
