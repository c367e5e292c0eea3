// Fuzz target: the value of `--reward-fn lib.so:symbol:signature` (FFIRewardSpec) and the
// signature grammar on its own (FFISignature), from the bytes decoded as UTF-8 (a command-line
// argument). A thrown FFIRewardSpecError / FFISignatureError is the parser refusing bad input:
// fine. An accepted signature must read back the same from its canonical form, since that form is
// what run records and messages show.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let signature = try? FFISignature(parsing: text) {
        roundTrip(signature)
    }
    if let spec = try? FFIRewardSpec(parsing: text) {
        roundTrip(spec.signature)
        let again = try? FFIRewardSpec(parsing: spec.description)
        precondition(again == spec, "'\(text)' parsed as \(spec), which reads back as \(String(describing: again))")
    }
    return 0
}

private func roundTrip(_ signature: FFISignature) {
    let again = try? FFISignature(parsing: signature.description)
    precondition(again == signature, "\(signature) reads back as \(String(describing: again))")
}
