// The body shared by the three data-format targets: the input becomes a data file, read through
// DatasetLoader.load(spec: "<format>:<file>") exactly as the command line reads it, and every
// example it yields is formatted as a training target. A thrown DataError is the loader refusing
// bad input: fine.

/// Loads the input as a `format` file; traps only on what the loader should never produce.
func fuzzDataFile(format: String, scratch: ScratchFile, _ data: UnsafePointer<UInt8>, _ size: Int) {
    scratch.write(data, size)
    guard let examples = try? DatasetLoader.load(spec: format + ":" + scratch.path) else { return }
    for e in examples {
        precondition(!e.question.isEmpty, "example \(e.id) has an empty question")
        _ = ReFTFormat.target(cot: e.cots.first ?? "", answer: e.answer)
    }
}
