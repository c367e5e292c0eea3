import Foundation
import Testing
@testable import Engine

// MARK: - A tiny GGUF writer, to make files with exactly the features (and damage) a test needs

private func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
private func gstring(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

/// The value's bytes without its type tag (array elements are stored that way).
private func payload(_ v: GGUFValue) -> [UInt8] {
    switch v {
    case .uint8(let x): return [x]
    case .int8(let x): return [UInt8(bitPattern: x)]
    case .uint16(let x): return le(x)
    case .int16(let x): return le(x)
    case .uint32(let x): return le(x)
    case .int32(let x): return le(x)
    case .uint64(let x): return le(x)
    case .int64(let x): return le(x)
    case .float32(let x): return le(x.bitPattern)
    case .float64(let x): return le(x.bitPattern)
    case .bool(let x): return [x ? 1 : 0]
    case .string(let s): return gstring(s)
    case .array(let t, let values): return le(t.rawValue) + le(UInt64(values.count)) + values.flatMap(payload)
    }
}

private struct TestTensor {
    var name: String
    var shape: [UInt64]
    var type: UInt32
    var data: [UInt8]
    /// Stored offset; nil places the tensor after the previous one, padded to the alignment.
    var offset: UInt64? = nil
}

private struct TestGGUF {
    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = []
    var tensors: [TestTensor] = []

    /// The file's alignment; a damaged one (a test of the reader's checks) pads to 32 instead.
    var alignment: Int {
        let a = metadata.first { $0.0 == "general.alignment" }?.1.intValue ?? 32
        return a > 0 && a <= 1 << 16 && a & (a - 1) == 0 ? a : 32
    }

    /// The file, and where its tensor directory and data section start.
    func build() -> (bytes: [UInt8], directory: Int, data: Int) {
        var out = Array("GGUF".utf8) + le(version) + le(UInt64(tensors.count)) + le(UInt64(metadata.count))
        for (key, value) in metadata { out += gstring(key) + le(value.type.rawValue) + payload(value) }
        let directory = out.count
        var next: UInt64 = 0
        var placed: [(UInt64, [UInt8])] = []
        for t in tensors {
            let offset = t.offset ?? next
            out += gstring(t.name) + le(UInt32(t.shape.count)) + t.shape.flatMap(le) + le(t.type) + le(offset)
            // Offsets far past any real data (to test bounds checks) get no bytes written.
            guard offset < 1 << 20 else { continue }
            placed.append((offset, t.data))
            let end = offset + UInt64(t.data.count), a = UInt64(alignment)
            next = (end + a - 1) / a * a
        }
        while out.count % alignment != 0 { out.append(0) }
        let data = out.count
        var section = [UInt8](repeating: 0, count: placed.map { Int($0.0) + $0.1.count }.max() ?? 0)
        for (offset, bytes) in placed { section.replaceSubrange(Int(offset)..<(Int(offset) + bytes.count), with: bytes) }
        return (out + section, directory, data)
    }
}

private func f32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { le($0.bitPattern) } }

/// The error a failing call throws (checking that it names its file), or nil when it succeeds.
private func ggufError(_ body: () throws -> Void) -> GGUFError? {
    do { try body() } catch let e as GGUFError {
        #expect(e.description.contains(e.path), "\(e)")
        return e
    } catch { Issue.record("unexpected error \(error)") }
    return nil
}

private func kind(_ body: () throws -> Void) -> GGUFError.Kind? { ggufError(body)?.kind }

/// Elementwise equality of bit patterns, except that any NaN equals any NaN (converters may
/// quiet a signalling NaN). Reports the first few differences.
private func expectSameFloats(_ got: [Float], _ want: [Float], _ label: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count, "\(label): \(got.count) values, expected \(want.count)", sourceLocation: sourceLocation)
    var bad: [String] = []
    var mismatches = 0
    for i in 0..<min(got.count, want.count) where got[i].bitPattern != want[i].bitPattern && !(got[i].isNaN && want[i].isNaN) {
        mismatches += 1
        if bad.count < 5 { bad.append("[\(i)] \(got[i]) vs \(want[i])") }
    }
    #expect(mismatches == 0, "\(label): \(mismatches) values differ, e.g. \(bad.joined(separator: ", "))", sourceLocation: sourceLocation)
}

private func readFloats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
}

// MARK: - The reference implementation and the real model, when this machine has them

private enum Reference {
    static let packageRoot = ReferenceEnvironment.packageRoot
    static let script = packageRoot + "/scripts/reference/gguf_quants.py"
    static let setupHint = ReferenceEnvironment.setupHint
    static var python: String? { ReferenceEnvironment.python }
    static let modelRelative = ReferenceEnvironment.modelRelative
    static var model: String? { ReferenceEnvironment.model }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        try ReferenceEnvironment.run(executable, arguments)
    }

    static func helper(_ arguments: [String]) throws -> String {
        try run(python!, [script] + arguments)
    }
}

// MARK: - Metadata and layout

/// One value of every scalar type, with extremes where the width matters.
private let scalarSamples: [(String, GGUFValue)] = [
    ("test.uint8", .uint8(250)), ("test.int8", .int8(-120)),
    ("test.uint16", .uint16(65_000)), ("test.int16", .int16(-32_000)),
    ("test.uint32", .uint32(4_000_000_000)), ("test.int32", .int32(-2_000_000_000)),
    ("test.float32", .float32(-1.5e-7)), ("test.bool.true", .bool(true)), ("test.bool.false", .bool(false)),
    ("test.string", .string("hello, GGUF — ünïcødé 🦙")), ("test.string.empty", .string("")),
    ("test.uint64", .uint64(.max)), ("test.int64", .int64(.min)), ("test.float64", .float64(.pi)),
]

private func everyTypeFile() -> TestGGUF {
    var g = TestGGUF()
    g.metadata = scalarSamples
    // An array of each scalar type, strings included.
    for (key, value) in scalarSamples where key != "test.bool.false" && key != "test.string.empty" {
        g.metadata.append(("array." + key, .array(value.type, [value, value, value])))
    }
    g.metadata += [
        ("array.tokens", .array(.string, [.string("<|endoftext|>"), .string(""), .string("Ġthe")])),
        ("array.empty", .array(.float32, [])),
        ("array.nested", .array(.array, [.array(.int32, [.int32(1), .int32(-2)]), .array(.int32, []), .array(.uint8, [.uint8(7)])])),
        ("array.nested.deep", .array(.array, [.array(.array, [.array(.string, [.string("deep")])])])),
        // Not the default 32, so the data section must move.
        ("general.alignment", .uint32(64)),
        ("general.architecture", .string("llama")),
    ]
    g.tensors = [
        TestTensor(name: "norm.weight", shape: [3], type: 0, data: f32Bytes([1, -2, 3.5])),
        TestTensor(name: "w.q8", shape: [32, 1], type: 8, data: le(UInt16(0x3C00)) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }),
        TestTensor(name: "bias", shape: [2, 2], type: 0, data: f32Bytes([0.25, -0.5, 8, 1e-3])),
    ]
    return g
}

@Test func ggufReadsEveryMetadataTypeNestedArraysAndAlignment() throws {
    let (bytes, directory, data) = everyTypeFile().build()
    let dir = try makeTempDir("gguf-meta")
    let path = dir + "/every.gguf"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    // Through the memory map and from memory: the same result.
    let file = try GGUFFile(path: path)
    let memory = try GGUFFile(bytes: bytes)
    #expect(file.metadata == memory.metadata && file.tensors == memory.tensors)

    let expected = everyTypeFile().metadata
    #expect(file.version == 3)
    #expect(file.metadataKeys == expected.map(\.0))
    #expect(file.metadata.count == expected.count)
    for (key, value) in expected {
        #expect(file.metadata[key] == value, "\(key): \(String(describing: file.metadata[key])) vs \(value)")
        #expect(file.metadata[key]?.type == value.type)
    }
    #expect(file.alignment == 64)
    #expect(file.directoryOffset == directory)
    #expect(file.dataOffset == data && data % 64 == 0)
    #expect(file.fileSize == bytes.count)

    // The directory, with offsets padded to 64.
    #expect(file.tensors.map(\.name) == ["norm.weight", "w.q8", "bias"])
    #expect(file.tensors.map(\.offset) == [0, 64, 128])
    #expect(file.tensors.map(\.shape) == [[3], [32, 1], [2, 2]])
    #expect(file.tensors.map(\.type) == [.f32, .q8_0, .f32])
    #expect(file.tensors.map(\.elementCount) == [3, 32, 4])
    #expect(file.tensors.map(\.byteCount) == [12, 34, 16])
    #expect(file.tensor(named: "bias")?.rowMajorShape == [2, 2])
    #expect(try file.dequantize("norm.weight") == [1, -2, 3.5])
    #expect(try file.dequantize("bias") == [0.25, -0.5, 8, 1e-3])
    #expect(try file.dequantize("w.q8") == (0..<32).map { Float($0 - 16) })

    // Typed accessors convert only where exact.
    #expect(file.int("test.uint32") == 4_000_000_000 && file.int("test.int8") == -120)
    #expect(file.int("test.uint64") == nil)  // above Int.max
    #expect(file.int("test.int64") == Int(Int64.min))
    #expect(file.float("test.float32") == Double(Float(-1.5e-7)) && file.float("test.float64") == .pi)
    #expect(file.float("test.int32") == nil && file.int("test.float32") == nil)
    #expect(file.bool("test.bool.true") == true && file.bool("test.bool.false") == false)
    #expect(file.string("test.string") == "hello, GGUF — ünïcødé 🦙" && file.string("test.uint8") == nil)
    #expect(file.stringArray("array.tokens") == ["<|endoftext|>", "", "Ġthe"])
    #expect(file.intArray("array.test.int16") == [-32_000, -32_000, -32_000])
    #expect(file.floatArray("array.test.float32") == [Double(Float(-1.5e-7)), Double(Float(-1.5e-7)), Double(Float(-1.5e-7))])
    #expect(file.floatArray("array.empty") == [] && file.stringArray("array.empty") == [])
    #expect(file.stringArray("array.nested") == nil && file.intArray("missing") == nil)
    #expect(file.metadata["array.nested"]?.arrayValues?[0].arrayValues == [.int32(1), .int32(-2)])
    #expect(file.architecture == "llama")
    #expect(try file.requireInt("test.uint16") == 65_000)
    #expect(try file.requireString("general.architecture") == "llama")
    #expect(try file.requireFloat("test.float64") == .pi)
    let missing = ggufError { _ = try file.requireInt("llama.block_count") }
    #expect(missing?.kind == .missingKey && missing?.description.contains("llama.block_count") == true)
    let wrong = ggufError { _ = try file.requireInt("test.string") }
    #expect(wrong?.kind == .wrongValueType && wrong?.description.contains("test.string") == true)
    #expect(kind { _ = try file.dequantize("nope") } == .noSuchTensor)
    var small = [Float](repeating: 0, count: 2)
    #expect(kind { try small.withUnsafeMutableBufferPointer { try file.dequantize("bias", into: $0) } } == .badDestination)
    var exact = [Float](repeating: 0, count: 4)
    try exact.withUnsafeMutableBufferPointer { try file.dequantize("bias", into: $0) }
    #expect(exact == [0.25, -0.5, 8, 1e-3])
}

@Test func ggufDefaultsToAlignment32AndAcceptsAnEmptyFile() throws {
    var g = TestGGUF()
    g.tensors = [TestTensor(name: "a", shape: [1], type: 0, data: f32Bytes([7])),
                 TestTensor(name: "b", shape: [2], type: 0, data: f32Bytes([8, 9]))]
    let (bytes, _, data) = g.build()
    let file = try GGUFFile(bytes: bytes)
    #expect(file.alignment == 32 && file.dataOffset == data && data % 32 == 0)
    #expect(file.tensors.map(\.offset) == [0, 32])
    #expect(try file.dequantize("b") == [8, 9])

    // No metadata and no tensors: just the header, with or without padding to the data section.
    let header = TestGGUF().build().bytes
    let empty = try GGUFFile(bytes: Array(header[0..<24]))
    #expect(empty.metadata.isEmpty && empty.tensors.isEmpty && empty.fileSize == 24 && empty.dataOffset == 32)
    #expect(try GGUFFile(bytes: header).fileSize == 32)
}

// MARK: - Dequantisation of hand-worked blocks

@Test func ggufDequantisesHandWorkedBlocks() throws {
    // Q8_0: x = q·d. Block 1: d = 0.5, q = -128, -120, …, 120. Block 2: d = -3, q = -16…15.
    let q8 = le(UInt16(0x3800)) + (0..<32).map { UInt8(bitPattern: Int8($0 * 8 - 128)) }
        + le(UInt16(0xC200)) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }
    // Q4_0: x = (q − 8)·d with d = 2; byte j holds q = j (low nibble, value j) and 15 − j (high, value j + 16).
    let q4_0 = le(UInt16(0x4000)) + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
    // Q4_1: x = q·d + m with d = 0.25, m = -1.
    let q4_1 = le(UInt16(0x3400)) + le(UInt16(0xBC00)) + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
    // F16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -0, +inf, 2^-14 (smallest normal).
    let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x0400]
    // BF16: 1, -2.5, 3.140625, 2^-126, -inf, 2^-133 (a subnormal), 0, 3.3895314e38 (max).
    let bf16: [UInt16] = [0x3F80, 0xC020, 0x4049, 0x0080, 0xFF80, 0x0001, 0x0000, 0x7F7F]

    var g = TestGGUF()
    g.tensors = [
        TestTensor(name: "q8", shape: [32, 2], type: 8, data: q8),
        TestTensor(name: "q4_0", shape: [32], type: 2, data: q4_0),
        TestTensor(name: "q4_1", shape: [32], type: 3, data: q4_1),
        TestTensor(name: "f16", shape: [8], type: 1, data: f16.flatMap(le)),
        TestTensor(name: "bf16", shape: [4, 2], type: 30, data: bf16.flatMap(le)),
    ]
    let file = try GGUFFile(bytes: g.build().bytes)
    expectSameFloats(try file.dequantize("q8"), (0..<32).map { Float($0 * 8 - 128) * 0.5 } + (0..<32).map { Float($0 - 16) * -3 }, "Q8_0")
    expectSameFloats(try file.dequantize("q4_0"), (0..<16).map { Float($0 - 8) * 2 } + (0..<16).map { Float(7 - $0) * 2 }, "Q4_0")
    expectSameFloats(try file.dequantize("q4_1"), (0..<16).map { Float($0) * 0.25 - 1 } + (0..<16).map { Float(15 - $0) * 0.25 - 1 }, "Q4_1")
    expectSameFloats(try file.dequantize("f16"), [1, -2, 0.5, 65504, 0x1p-24, -0.0, .infinity, 0x1p-14], "F16")
    expectSameFloats(try file.dequantize("bf16"), [1, -2.5, 3.140625, 0x1p-126, -.infinity, 0x1p-133, 0, 0x1.FEp127], "BF16")
    #expect(file.tensor(named: "bf16")?.rowMajorShape == [2, 4])
}

@Test func ggufRefusesToDequantiseOtherTypesButStillOpens() throws {
    var g = TestGGUF()
    g.tensors = [TestTensor(name: "blk.0.attn_q.weight", shape: [32], type: 6, data: [UInt8](repeating: 0, count: 22)),  // Q5_0
                 TestTensor(name: "ok", shape: [1], type: 0, data: f32Bytes([4]))]
    let file = try GGUFFile(bytes: g.build().bytes)
    #expect(file.tensors.first?.type == .q5_0 && file.tensors.first?.byteCount == 22)
    #expect(try file.dequantize("ok") == [4])
    let e = ggufError { _ = try file.dequantize("blk.0.attn_q.weight") }
    #expect(e?.kind == .unsupportedType)
    for part in ["blk.0.attn_q.weight", "Q5_0", "ggml type 6", "Q4_K", "Q6_K", "BF16"] {
        #expect(e?.description.contains(part) == true, "\(part) missing from: \(String(describing: e))")
    }
}

// MARK: - Dequantisation against the gguf Python package

@Test(.enabled(if: Reference.python != nil, "needs a Python with gguf and numpy: \(Reference.setupHint)"),
      arguments: ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"])
func ggufDequantisationMatchesTheGGUFPackage(typeName: String) throws {
    let dir = try makeTempDir("gguf-ref-\(typeName)")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let line = try Reference.helper(["quant", typeName, "20261127", dir])
    let info = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    let rows = info["rows"] as! Int, rowLength = info["row_length"] as! Int
    let quantised = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(typeName).bin")))
    let reference = try readFloats("\(dir)/\(typeName).f32")
    let type = try #require(GGMLType.allCases.first { $0.name == typeName })
    #expect(quantised.count == rows * rowLength / type.blockSize * type.blockBytes)

    var g = TestGGUF()
    g.tensors = [TestTensor(name: "t", shape: [UInt64(rowLength), UInt64(rows)], type: type.rawValue, data: quantised)]
    let file = try GGUFFile(bytes: g.build().bytes)
    let info_ = try #require(file.tensor(named: "t"))
    #expect(Array(file.rawBytes(info_)) == quantised)
    expectSameFloats(try file.dequantize("t"), reference, "\(typeName) (\(info["method"] ?? ""))")
}

// MARK: - The real model

@Test(.enabled(if: Reference.model != nil, "needs \(Reference.modelRelative) under $WORKBENCH_MODELS or models/: \(Reference.setupHint)"))
func ggufReadsSmolLM2AndDequantisesEveryTensor() throws {
    let file = try GGUFFile(path: Reference.model!)
    #expect(file.version == 3 && file.alignment == 32)
    #expect(file.architecture == "llama")
    #expect(file.int("llama.block_count") == 30)
    #expect(file.int("llama.embedding_length") == 576)
    #expect(file.int("llama.feed_forward_length") == 1536)
    #expect(file.int("llama.attention.head_count") == 9)
    #expect(file.int("llama.attention.head_count_kv") == 3)
    #expect(file.int("llama.context_length") == 8192)
    #expect(file.int("llama.vocab_size") == 49152)
    #expect(file.int("llama.rope.dimension_count") == 64)
    #expect(file.float("llama.rope.freq_base") == 100_000)
    #expect(file.float("llama.attention.layer_norm_rms_epsilon") == Double(Float(1e-5)))
    #expect(file.string("tokenizer.ggml.model") == "gpt2")
    #expect(file.string("tokenizer.ggml.pre") == "smollm")
    let tokens = try #require(file.stringArray("tokenizer.ggml.tokens"))
    #expect(tokens.count == 49152 && tokens[0] == "<|endoftext|>" && tokens[1] == "<|im_start|>")
    #expect(file.intArray("tokenizer.ggml.token_type")?.count == 49152)
    #expect(file.stringArray("tokenizer.ggml.merges")?.count == 48900)
    #expect(file.int("tokenizer.ggml.bos_token_id") == 1 && file.int("tokenizer.ggml.eos_token_id") == 2)

    // 1 embedding + 30 blocks × 9 + the final norm; the output projection is tied to the embedding.
    #expect(file.tensors.count == 272)
    #expect(file.tensor(named: "output.weight") == nil)
    #expect(file.tensor(named: "token_embd.weight")?.shape == [576, 49152])
    #expect(file.tensor(named: "token_embd.weight")?.type == .q8_0)
    #expect(file.tensor(named: "blk.0.attn_q.weight")?.shape == [576, 576])
    #expect(file.tensor(named: "blk.0.attn_k.weight")?.shape == [576, 192])
    #expect(file.tensor(named: "blk.0.attn_k.weight")?.rowMajorShape == [192, 576])
    #expect(file.tensor(named: "blk.29.ffn_down.weight")?.shape == [1536, 576])
    #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == .q4_1)
    #expect(file.tensor(named: "output_norm.weight")?.type == .f32)
    #expect(Set(file.tensors.map(\.type)) == [.f32, .q4_1, .q8_0])
    for layer in 0..<30 {
        for part in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"] {
            #expect(file.tensor(named: "blk.\(layer).\(part).weight") != nil, "blk.\(layer).\(part).weight")
        }
    }

    // Every tensor, into one reused buffer; fast enough to do at every model load.
    let largest = file.tensors.map(\.elementCount).max() ?? 0
    var buffer = [Float](repeating: .nan, count: largest)
    let clock = ContinuousClock()
    var total = 0, nonFinite = 0
    let elapsed = try clock.measure {
        for t in file.tensors {
            try buffer.withUnsafeMutableBufferPointer { all in
                let part = UnsafeMutableBufferPointer(rebasing: all[0..<t.elementCount])
                try file.dequantize(t.name, into: part)
                nonFinite += part.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            }
            total += t.elementCount
        }
    }
    #expect(total > 134_000_000 && total < 136_000_000, "\(total) parameters")
    #expect(nonFinite == 0)
    print("GGUF: dequantised \(file.tensors.count) tensors, \(total) values, in \(elapsed)")
    #expect(elapsed < .seconds(30), "dequantising the 135M model took \(elapsed)")
}

@Test(.enabled(if: Reference.model != nil && Reference.python != nil,
               "needs the SmolLM2 GGUF and a Python with gguf and numpy: \(Reference.setupHint)"))
func ggufSmolLM2MatchesTheGGUFPackage() throws {
    let path = Reference.model!
    let file = try GGUFFile(path: path)
    let names = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_norm.weight",
                 "blk.15.ffn_down.weight", "blk.29.ffn_gate.weight", "output_norm.weight"]
    let dir = try makeTempDir("gguf-model-ref")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = try Reference.helper(["model", path, dir] + names)
    let dump = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/directory.json"))) as! [String: Any]

    // The whole directory, with absolute data offsets.
    let tensors = dump["tensors"] as! [[String: Any]]
    #expect(tensors.count == file.tensors.count)
    for (mine, theirs) in zip(file.tensors, tensors) {
        #expect(mine.name == theirs["name"] as? String)
        #expect(mine.shape == theirs["shape"] as? [Int], "\(mine.name)")
        #expect(Int(mine.type.rawValue) == theirs["type"] as? Int, "\(mine.name)")
        #expect(mine.fileOffset == theirs["offset"] as? Int, "\(mine.name)")
        #expect(mine.elementCount == theirs["elements"] as? Int && mine.byteCount == theirs["bytes"] as? Int, "\(mine.name)")
    }

    // Every metadata entry: types, and values down to each token and merge.
    let metadata = dump["metadata"] as! [String: [String: Any]]
    #expect(Set(metadata.keys) == Set(file.metadata.keys))
    for (key, entry) in metadata {
        guard let value = file.metadata[key] else { continue }
        #expect(typeNames(value) == entry["types"] as? [String], "\(key)")
        #expect(sameValue(value, entry["value"] as Any), "\(key): \(value)")
    }

    for (i, name) in names.enumerated() {
        expectSameFloats(try file.dequantize(name), try readFloats("\(dir)/\(i).f32"), name)
    }
}

private func typeNames(_ v: GGUFValue) -> [String] {
    let name = "\(v.type)".uppercased()
    if case .array(let element, _) = v { return [name, "\(element)".uppercased()] }
    return [name]
}

private func number(_ json: Any) -> NSNumber? {
    if let n = json as? NSNumber { return n }
    if let b = json as? Bool { return NSNumber(value: b) }
    if let i = json as? Int { return NSNumber(value: i) }
    if let d = json as? Double { return NSNumber(value: d) }
    return nil
}

private func sameValue(_ v: GGUFValue, _ json: Any) -> Bool {
    switch v {
    case .string(let s): return json as? String == s
    case .bool(let b): return number(json)?.boolValue == b
    case .float32(let f): return number(json)?.doubleValue == Double(f)
    case .float64(let f): return number(json)?.doubleValue == f
    case .uint64(let u): return number(json)?.uint64Value == u
    case .array(_, let values):
        guard let items = json as? [Any], items.count == values.count else { return false }
        return zip(values, items).allSatisfy { sameValue($0, $1) }
    default: return number(json)?.int64Value == Int64(v.intValue!)
    }
}

// MARK: - Truncated and damaged files

private func truncationFile() -> TestGGUF {
    var g = TestGGUF()
    g.metadata = [("general.architecture", .string("llama")),
                  ("general.name", .string("a metadata string to cut through")),
                  ("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("bb"), .string("ccc")])),
                  ("nested", .array(.array, [.array(.uint16, [.uint16(1), .uint16(2)])]))]
    g.tensors = [TestTensor(name: "first.weight", shape: [32, 2], type: 8, data: [UInt8](repeating: 0x11, count: 68)),
                 TestTensor(name: "last.weight", shape: [4], type: 0, data: f32Bytes([1, 2, 3, 4]))]
    return g
}

@Test func ggufEveryTruncationIsAnErrorNamingWhatIsCut() throws {
    let (valid, directory, data) = truncationFile().build()
    _ = try GGUFFile(bytes: valid)
    for cut in 0..<valid.count {
        let e = ggufError { _ = try GGUFFile(bytes: Array(valid[0..<cut]), source: "cut-\(cut).gguf") }
        #expect(e != nil, "cut at \(cut) of \(valid.count) was accepted")
        #expect(e?.kind == (cut < data ? .truncated : .tensorOutOfBounds) || (cut >= directory && e?.kind == .tensorOutOfBounds),
                "cut at \(cut): \(String(describing: e))")
    }
    func message(_ cut: Int) -> String { ggufError { _ = try GGUFFile(bytes: Array(valid[0..<cut])) }?.description ?? "" }
    #expect(message(10).contains("header"))
    let name = try #require(valid.indices.first { Array(valid[$0..<($0 + 10)]) == Array("a metadata".utf8) })
    #expect(message(name + 5).contains("general.name"))
    // Too short for any two directory entries, then inside the second entry's name and offset.
    #expect(message(directory + 10).contains("2 tensors"))
    #expect(message(directory + 50).contains("data offset of tensor \"first.weight\""))
    #expect(message(directory + 60).contains("tensor 2 of 2"))
    #expect(message(directory + 90).contains("data offset of tensor \"last.weight\""))
    #expect(message(valid.count - 1).contains("last.weight"))

    // Through a file on disk, the path is in the message.
    let dir = try makeTempDir("gguf-trunc")
    let path = dir + "/cut.gguf"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(valid[0..<(directory + 3)])))
    let e = ggufError { _ = try GGUFFile(path: path) }
    #expect(e?.kind == .truncated && e?.path == path)
    #expect(FileManager.default.createFile(atPath: dir + "/empty.gguf", contents: Data()))
    #expect(kind { _ = try GGUFFile(path: dir + "/empty.gguf") } == .truncated)
    #expect(kind { _ = try GGUFFile(path: dir + "/missing.gguf") } == .unreadable)
    #expect(kind { _ = try GGUFFile(path: dir) } == .unreadable)
}

@Test func ggufHeaderDamageGivesTheMatchingError() throws {
    let (valid, _, _) = truncationFile().build()
    func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
        var b = valid
        b.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return b
    }
    let badMagic = ggufError { _ = try GGUFFile(bytes: patched(0, Array("GGML".utf8))) }
    #expect(badMagic?.kind == .notGGUF && badMagic?.description.contains("not a GGUF file") == true)
    #expect(kind { _ = try GGUFFile(bytes: Array("PK\u{3}\u{4}".utf8)) } == .notGGUF)
    for version: UInt32 in [1, 2] {
        let e = ggufError { _ = try GGUFFile(bytes: patched(4, le(version))) }
        #expect(e?.kind == .unsupportedVersion && e?.description.contains("version \(version)") == true)
    }
    #expect(kind { _ = try GGUFFile(bytes: patched(4, le(UInt32(4)))) } == .unsupportedVersion)
    let bigEndian = ggufError { _ = try GGUFFile(bytes: patched(4, le(UInt32(3).byteSwapped))) }
    #expect(bigEndian?.kind == .unsupportedVersion && bigEndian?.description.contains("big-endian") == true)
    // Counts far beyond what the file could hold are refused before anything is allocated.
    #expect(kind { _ = try GGUFFile(bytes: patched(8, le(UInt64(1) << 40))) } == .truncated)
    #expect(kind { _ = try GGUFFile(bytes: patched(16, le(UInt64.max))) } == .truncated)
}

/// A file with one metadata entry, whose value bytes (after the key and type) the test controls.
private func oneEntry(_ key: String, type: UInt32, _ value: [UInt8]) -> [UInt8] {
    Array("GGUF".utf8) + le(UInt32(3)) + le(UInt64(0)) + le(UInt64(1)) + gstring(key) + le(type) + value
}

@Test func ggufMetadataDamageGivesTheMatchingError() throws {
    // An array count of 2^40 and a string length of 2^62.
    let huge = ggufError { _ = try GGUFFile(bytes: oneEntry("tokenizer.ggml.scores", type: 9, le(UInt32(6)) + le(UInt64(1) << 40) + [0, 0, 0, 0])) }
    #expect(huge?.kind == .truncated)
    #expect(huge?.description.contains("tokenizer.ggml.scores") == true && huge?.description.contains("1099511627776") == true)
    let long = ggufError { _ = try GGUFFile(bytes: oneEntry("general.name", type: 8, le(UInt64(1) << 62) + Array("abc".utf8))) }
    #expect(long?.kind == .truncated && long?.description.contains("general.name") == true)
    let strings = ggufError { _ = try GGUFFile(bytes: oneEntry("tokens", type: 9, le(UInt32(8)) + le(UInt64(2)) + gstring("ok") + le(UInt64(99)) + [0x41])) }
    #expect(strings?.kind == .truncated && strings?.description.contains("string 1 of array metadata key \"tokens\"") == true)
    // The key itself running past the end.
    #expect(kind { _ = try GGUFFile(bytes: Array("GGUF".utf8) + le(UInt32(3)) + le(UInt64(0)) + le(UInt64(1)) + le(UInt64(500)) + [UInt8](repeating: 65, count: 20)) } == .truncated)

    #expect(kind { _ = try GGUFFile(bytes: oneEntry("k", type: 13, le(UInt32(0)))) } == .badMetadata)
    #expect(kind { _ = try GGUFFile(bytes: oneEntry("k", type: 9, le(UInt32(77)) + le(UInt64(0)))) } == .badMetadata)
    #expect(kind { _ = try GGUFFile(bytes: oneEntry("k", type: 7, [2])) } == .badMetadata)
    // Arrays nested deeper than any real file, which would otherwise recurse without bound.
    var deep: [UInt8] = []
    for _ in 0..<40 { deep += le(UInt32(9)) + le(UInt64(1)) }
    deep += le(UInt32(0)) + le(UInt64(0))
    #expect(kind { _ = try GGUFFile(bytes: oneEntry("k", type: 9, deep)) } == .badMetadata)

    var dup = TestGGUF()
    dup.metadata = [("a", .uint8(1)), ("a", .uint8(2))]
    #expect(kind { _ = try GGUFFile(bytes: dup.build().bytes) } == .badMetadata)
    for alignment: GGUFValue in [.uint32(0), .uint32(48), .string("32"), .uint64(1 << 40)] {
        var g = TestGGUF()
        g.metadata = [("general.alignment", alignment)]
        let e = ggufError { _ = try GGUFFile(bytes: g.build().bytes) }
        #expect(e?.kind == .badMetadata && e?.description.contains("general.alignment") == true, "\(alignment)")
    }
}

@Test func ggufTensorDirectoryDamageGivesTheMatchingError() throws {
    func file(_ tensors: [TestTensor]) -> [UInt8] {
        var g = TestGGUF()
        g.tensors = tensors
        return g.build().bytes
    }
    let f4 = f32Bytes([1, 2, 3, 4])
    func check(_ expected: GGUFError.Kind, _ mention: String, _ tensors: [TestTensor], sourceLocation: SourceLocation = #_sourceLocation) {
        let e = ggufError { _ = try GGUFFile(bytes: file(tensors)) }
        #expect(e?.kind == expected, "\(String(describing: e))", sourceLocation: sourceLocation)
        #expect(e?.description.contains(mention) == true, "\(String(describing: e))", sourceLocation: sourceLocation)
    }
    check(.badTensorInfo, "at most 4", [TestTensor(name: "five", shape: [1, 1, 1, 1, 4], type: 0, data: f4)])
    check(.badTensorInfo, "\"huge\"", [TestTensor(name: "huge", shape: [1 << 63, 1], type: 0, data: f4)])
    check(.badTensorInfo, "\"product\"", [TestTensor(name: "product", shape: [1 << 40, 1 << 40], type: 0, data: f4)])
    check(.badTensorInfo, "\"absurd\"", [TestTensor(name: "absurd", shape: [1 << 24, 1 << 24], type: 0, data: f4)])
    // Large but possible: reported as running past the end, as a truncated download would be.
    check(.tensorOutOfBounds, "\"large\"", [TestTensor(name: "large", shape: [1 << 20, 1 << 20], type: 0, data: f4)])
    check(.badTensorInfo, "block", [TestTensor(name: "ragged", shape: [33], type: 8, data: [UInt8](repeating: 0, count: 68))])
    check(.badTensorInfo, "ggml type 99", [TestTensor(name: "odd", shape: [4], type: 99, data: f4)])
    check(.badTensorInfo, "appears twice", [TestTensor(name: "x", shape: [4], type: 0, data: f4),
                                            TestTensor(name: "x", shape: [4], type: 0, data: f4)])
    check(.misalignedTensor, "\"skewed\"", [TestTensor(name: "skewed", shape: [4], type: 0, data: f4, offset: 4)])
    check(.overlappingTensors, "\"b\"", [TestTensor(name: "a", shape: [4], type: 0, data: f4),
                                         TestTensor(name: "b", shape: [4], type: 0, data: f4, offset: 0)])
    check(.overlappingTensors, "\"a\"", [TestTensor(name: "a", shape: [16], type: 0, data: f4 + f4 + f4 + f4),
                                         TestTensor(name: "b", shape: [4], type: 0, data: f4, offset: 32)])
    // Past the end: the data section is only as long as the tensors written into it.
    var past = file([TestTensor(name: "short", shape: [4], type: 0, data: f4)])
    past.removeLast(4)
    let e = ggufError { _ = try GGUFFile(bytes: past) }
    #expect(e?.kind == .tensorOutOfBounds && e?.description.contains("\"short\"") == true)
    check(.tensorOutOfBounds, "\"far\"", [TestTensor(name: "far", shape: [4], type: 0, data: f4, offset: 1 << 62)])
    check(.tensorOutOfBounds, "\"farther\"", [TestTensor(name: "farther", shape: [4], type: 0, data: f4, offset: UInt64.max - 31)])
    // Empty tensors take no bytes and overlap nothing.
    let empty = try GGUFFile(bytes: file([TestTensor(name: "e", shape: [0, 3], type: 0, data: []),
                                          TestTensor(name: "f", shape: [4], type: 0, data: f4, offset: 0)]))
    #expect(try empty.dequantize("e") == [] && empty.dequantize("f") == [1, 2, 3, 4])
}

@Test func ggufRandomCorruptionNeverCrashes() throws {
    var g = everyTypeFile()
    g.tensors.append(TestTensor(name: "k", shape: [256], type: 12, data: [UInt8](repeating: 0x3C, count: 144)))
    g.tensors.append(TestTensor(name: "u", shape: [32], type: 6, data: [UInt8](repeating: 0, count: 22)))
    let valid = g.build().bytes
    var rng = RNG(seed: 17, stream: "gguf-corrupt")
    var opened = 0
    for _ in 0..<2000 {
        var bytes = valid
        for _ in 0..<rng.int(in: 1...4) {
            bytes[rng.int(in: 0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: rng.next())
        }
        // Either an error or a file whose every tensor can be read in full; never a trap.
        guard let file = try? GGUFFile(bytes: bytes) else { continue }
        opened += 1
        for t in file.tensors where t.type.canDequantize {
            #expect(try file.dequantize(t.name).count == t.elementCount)
        }
    }
    #expect(opened > 0)
}

@Test(.enabled(if: Reference.model != nil, "needs \(Reference.modelRelative): \(Reference.setupHint)"))
func ggufTruncatedRealModelGivesTheMatchingError() throws {
    let path = Reference.model!
    let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let file = try GGUFFile(bytes: whole, source: "smollm2.gguf")
    let last = try #require(file.tensors.max { $0.fileOffset < $1.fileOffset })
    let tokens = try #require(whole.indices.first { whole[$0] == UInt8(ascii: "<") && Array(whole[$0..<($0 + 13)]) == Array("<|endoftext|>".utf8) })
    let cuts: [(Int, GGUFError.Kind, String)] = [
        (10, .truncated, "header"),
        (200, .truncated, "metadata"),
        (tokens + 400_000, .truncated, "tokenizer.ggml.tokens"),
        (file.directoryOffset + 8000, .truncated, "of tensor"),
        (file.dataOffset + 1000, .tensorOutOfBounds, "token_embd.weight"),
        (last.fileRange.upperBound - 1, .tensorOutOfBounds, last.name),
    ]
    for (cut, expected, mention) in cuts {
        let e = ggufError { _ = try GGUFFile(bytes: Array(whole[0..<cut]), source: "cut.gguf") }
        #expect(e?.kind == expected, "cut at \(cut): \(String(describing: e))")
        #expect(e?.description.contains(mention) == true, "cut at \(cut): \(String(describing: e))")
    }
}

// MARK: - The tokenizer a model file describes

/// SmolLM2's tokenizer, built from its GGUF metadata alone, gives the ids recorded from
/// Hugging Face `tokenizers` (BPETokenizerTests compares the two on 145 texts).
@Test(.enabled(if: Reference.model != nil, "needs \(Reference.modelRelative): \(Reference.setupHint)"))
func ggufTokenizerOfSmolLM2() throws {
    let t = try BPETokenizer(gguf: GGUFFile(path: Reference.model!))
    #expect(t.vocabSize == 49152)
    #expect(t.eosId == 2)
    #expect(t.encode("Therefore, the answer is: 72") == [17308, 28, 260, 2988, 314, 42, 216, 39, 34])
    let text = "Question:\nJanet has 16 eggs; she eats 3.\nAnswer reasoning:\n"
    #expect(t.decode(t.encode(text)) == text)
}

/// A file whose tokenizer is not byte-level BPE, or that lacks one, is refused by name.
@Test func ggufTokenizerRefusesOtherKinds() throws {
    func error(_ metadata: [(String, GGUFValue)]) -> BPETokenizerError? {
        do {
            _ = try BPETokenizer(gguf: GGUFFile(bytes: TestGGUF(metadata: metadata).build().bytes, source: "tok.gguf"))
        } catch let e as BPETokenizerError { return e } catch { Issue.record("unexpected \(error)") }
        return nil
    }
    let spm = error([("tokenizer.ggml.model", .string("llama"))])
    #expect(spm?.kind == .notBPE)
    #expect(spm?.message.contains("\"llama\"") == true)
    let bare = error([("tokenizer.ggml.model", .string("gpt2"))])
    #expect(bare?.kind == .missingMetadata)
    #expect(bare?.message.contains("tokenizer.ggml.tokens") == true)
}
