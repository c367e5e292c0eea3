import Foundation
import Testing
@testable import Engine

private func sampleTensors() -> [String: TensorData] {
    var rng = RNG(seed: 11, stream: "safetensors")
    var t: [String: TensorData] = [:]
    t["model.layers.0.weight"] = TensorData(shape: [3, 5], values: (0..<15).map { _ in rng.normal() })
    t["model.norm.weight"] = TensorData(shape: [5], values: (0..<5).map { _ in rng.normal() })
    t["a.scalar"] = TensorData(shape: [], values: [Float.pi])
    t["empty"] = TensorData(shape: [0, 4], values: [])
    // Values whose bits must survive exactly.
    t["special"] = TensorData(shape: [6], values: [-0.0, .infinity, -.infinity, .leastNonzeroMagnitude,
                                                   .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234)])
    return t
}

private func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

/// A file assembled by hand from a header string and data bytes, to test what our writer never produces.
private func handBuilt(_ header: String, _ data: [UInt8], pad: Bool = true) -> [UInt8] {
    var h = Array(header.utf8)
    if pad { while h.count % 8 != 0 { h.append(0x20) } }
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
    return out + h + data
}

private func kind(of body: () throws -> Void) -> SafetensorsError.Kind? {
    do { try body() } catch let e as SafetensorsError {
        #expect(e.description.contains(e.path))
        return e.kind
    } catch { Issue.record("unexpected error \(error)") }
    return nil
}

@Test func safetensorsRoundTripIsBitIdentical() throws {
    let dir = try makeTempDir("st")
    let path = dir + "/t.safetensors"
    let tensors = sampleTensors()
    try Safetensors.write(tensors, metadata: ["format": "pt", "note": "quote \" and \n newline"], to: path)
    let file = try Safetensors.read(from: path)
    #expect(file.metadata == ["format": "pt", "note": "quote \" and \n newline"])
    #expect(Set(file.tensors.keys) == Set(tensors.keys))
    for (name, t) in tensors {
        #expect(file.tensors[name]?.shape == t.shape)
        #expect(bits(file.tensors[name]?.values ?? []) == bits(t.values), "\(name)")
    }
    // No temporary file is left next to the result.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["t.safetensors"])
}

@Test func safetensorsWriterLayoutIsDeterministicAndSorted() throws {
    let bytes = try Safetensors.encode(sampleTensors(), metadata: ["b": "2", "a": "1"])
    #expect(try Safetensors.encode(sampleTensors(), metadata: ["a": "1", "b": "2"]) == bytes)
    let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    #expect(n % 8 == 0)
    let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
    #expect(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2"},"a.scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]},"model.layers.0.weight""#))
    #expect(bytes.count == 8 + n + 4 * (1 + 0 + 15 + 5 + 6))
}

@Test func safetensorsDecodesF16AndBF16() throws {
    // F16: 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -0, +inf, 2^-14 (smallest normal)
    let f16: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x0400]
    // BF16: 1, -2.5, 3.140625, 1e-38-ish subnormal-free small value 2^-126, -inf
    let bf16: [UInt16] = [0x3F80, 0xC020, 0x4049, 0x0080, 0xFF80]
    var data: [UInt8] = []
    for h in f16 + bf16 { data += [UInt8(h & 0xFF), UInt8(h >> 8)] }
    let header = #"{"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[5],"data_offsets":[16,26]}}"#
    let file = try Safetensors.decode(handBuilt(header, data))
    #expect(file.metadata == [:])
    #expect(file.tensors["h"]?.shape == [2, 4])
    #expect(bits(file.tensors["h"]!.values) == bits([1, -2, 0.5, 65504, 0x1p-24, -0.0, .infinity, 0x1p-14]))
    #expect(bits(file.tensors["b"]!.values) == bits([1, -2.5, 3.140625, 0x1p-126, -.infinity]))

    // NaN stays NaN; an unpadded header is accepted too.
    let nan = try Safetensors.decode(handBuilt(#"{"n":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#, [0x00, 0x7E], pad: false))
    #expect(nan.tensors["n"]!.values[0].isNaN)
}

@Test func safetensorsEveryTruncationIsAnErrorNotACrash() throws {
    let valid = try Safetensors.encode(sampleTensors(), metadata: ["format": "pt"])
    for cut in 0..<valid.count {
        let k = kind { _ = try Safetensors.decode(Array(valid[0..<cut])) }
        #expect(k != nil, "cut at \(cut)")
    }
    // One case through a real file, so the path appears in the message.
    let dir = try makeTempDir("st-trunc")
    let path = dir + "/cut.safetensors"
    #expect(FileManager.default.createFile(atPath: path, contents: Data(valid[0..<5])))
    do {
        _ = try Safetensors.read(from: path)
        Issue.record("truncated file was accepted")
    } catch let e as SafetensorsError {
        #expect(e.kind == .tooShort)
        #expect(e.description.contains(path))
    }
    #expect(kind { _ = try Safetensors.read(from: dir + "/missing.safetensors") } == .unreadable)
}

@Test func safetensorsHeaderErrors() throws {
    var valid = try Safetensors.encode(["x": TensorData(shape: [2], values: [1, 2])])
    // Header length pointing past the end, and one beyond the size limit.
    var big = valid
    big[0] = 0xFF; big[1] = 0xFF
    #expect(kind { _ = try Safetensors.decode(big) } == .headerTooLarge)
    var huge = [UInt8](repeating: 0, count: 8)
    withUnsafeBytes(of: UInt64.max.littleEndian) { huge = Array($0) }
    #expect(kind { _ = try Safetensors.decode(huge + [0, 0]) } == .headerTooLarge)
    // Shorter length: the header is cut mid-JSON.
    valid[0] = 8
    #expect(kind { _ = try Safetensors.decode(valid) } == .headerNotJSON)

    let d8 = [UInt8](repeating: 0, count: 8)
    #expect(kind { _ = try Safetensors.decode(handBuilt("not json at all", d8)) } == .headerNotJSON)
    #expect(kind { _ = try Safetensors.decode(handBuilt("", [])) } == .headerNotJSON)
    #expect(kind { _ = try Safetensors.decode(handBuilt("[1,2]", d8)) } == .badHeader)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"x":{"dtype":"F32","shape":[2]}}"#, d8)) } == .badHeader)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, d8)) } == .badHeader)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"__metadata__":{"a":1},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, d8)) } == .badHeader)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, d8)) } == .unknownDType)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"x":{"dtype":"F32","shape":[-1,-8],"data_offsets":[0,8]}}"#, d8)) } == .badShape)
    #expect(kind { _ = try Safetensors.decode(handBuilt(#"{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, d8)) } == .badShape)
}

@Test func safetensorsOffsetErrors() throws {
    let d16 = [UInt8](repeating: 0, count: 16)
    func offsets(_ x: String, _ y: String) -> [UInt8] {
        handBuilt(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":\#(x)},"y":{"dtype":"F32","shape":[2],"data_offsets":\#(y)}}"#, d16)
    }
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[8,16]")) } == nil)  // the valid baseline
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[8,24]")) } == .badOffsets)   // past the end
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[16,8]")) } == .badOffsets)   // reversed
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[-8,0]")) } == .badOffsets)   // negative
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[8,12]")) } == .badOffsets)   // size ≠ shape
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[8]")) } == .badOffsets)      // one number
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[4,12]")) } == .badOffsets)   // overlap
    #expect(kind { _ = try Safetensors.decode(offsets("[0,8]", "[0,8]")) } == .badOffsets)    // same bytes
    // Gap at the front, and bytes left over at the end.
    let gap = handBuilt(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, d16)
    #expect(kind { _ = try Safetensors.decode(gap) } == .uncoveredData)
    let tail = handBuilt(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, d16)
    #expect(kind { _ = try Safetensors.decode(tail) } == .uncoveredData)
}

@Test func safetensorsRandomCorruptionNeverCrashes() throws {
    let valid = try Safetensors.encode(sampleTensors(), metadata: ["format": "pt"])
    var rng = RNG(seed: 5, stream: "corrupt")
    for _ in 0..<2000 {
        var bytes = valid
        for _ in 0..<rng.int(in: 1...4) {
            bytes[rng.int(in: 0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: rng.next())
        }
        // Either an error or a file whose tensors match their shapes; never a trap.
        if let file = try? Safetensors.decode(bytes) {
            for t in file.tensors.values { #expect(t.values.count == t.shape.reduce(1, *)) }
        }
    }
}

@Test func safetensorsWriterRejectsInconsistentTensors() {
    #expect(kind { _ = try Safetensors.encode(["x": TensorData(shape: [2, 2], values: [1, 2, 3])]) } == .invalidTensor)
    #expect(kind { _ = try Safetensors.encode(["__metadata__": TensorData(shape: [1], values: [1])]) } == .invalidTensor)
}

@Test func safetensorsMetadataIsReadFromTheHeaderAlone() throws {
    let dir = try makeTempDir("st-meta")
    let path = dir + "/m.safetensors"
    try Safetensors.write(sampleTensors(), metadata: ["tokenizer": "byte", "step": "40"], to: path)
    #expect(try Safetensors.readMetadata(from: path) == ["tokenizer": "byte", "step": "40"])
    // The data region is not read: a file cut right after its header still yields its metadata.
    let bytes = try Safetensors.encode(sampleTensors(), metadata: ["step": "7"])
    let headerEnd = 8 + Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    let cut = dir + "/cut.safetensors"
    #expect(FileManager.default.createFile(atPath: cut, contents: Data(bytes[0..<headerEnd])))
    #expect(try Safetensors.readMetadata(from: cut) == ["step": "7"])
    // A header cut short, a 5-byte file, a non-JSON header and a missing file are errors naming the file.
    #expect(FileManager.default.createFile(atPath: cut, contents: Data(bytes[0..<(headerEnd - 3)])))
    #expect(kind { _ = try Safetensors.readMetadata(from: cut) } == .headerTooLarge)
    #expect(FileManager.default.createFile(atPath: cut, contents: Data(bytes[0..<5])))
    #expect(kind { _ = try Safetensors.readMetadata(from: cut) } == .tooShort)
    #expect(FileManager.default.createFile(atPath: cut, contents: Data(handBuilt("not json", []))))
    #expect(kind { _ = try Safetensors.readMetadata(from: cut) } == .headerNotJSON)
    #expect(kind { _ = try Safetensors.readMetadata(from: dir + "/missing.safetensors") } == .unreadable)
}
