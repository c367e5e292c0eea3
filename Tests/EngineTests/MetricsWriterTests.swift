import Foundation
import Testing
@testable import Engine

private func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
}

private func object(_ line: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
}

@Test func metricsLinesAreSortedJSONAndFlushedBeforeClose() throws {
    let path = try makeTempDir("metrics") + "/run/a/metrics.jsonl"
    let w = try MetricsWriter(path: path, append: false)
    w.write(["step": 1, "loss": 2.5, "phase": "sft", "ok": true, "lr": .float(0.1)])
    // Read back while the writer is still open: a crash here must not lose the line.
    let first = try lines(path)
    #expect(first == [#"{"loss":2.5,"lr":0.1,"ok":true,"phase":"sft","step":1}"#])

    w.write(["nan": .double(.nan), "inf": .double(.infinity), "text": "say \"hi\"\n\tbye\u{01}"])
    let all = try lines(path)
    #expect(all.count == 2)
    let o = try object(all[1])
    #expect(o["nan"] is NSNull)
    #expect(o["inf"] is NSNull)
    #expect(o["text"] as? String == "say \"hi\"\n\tbye\u{01}")
    let p = try object(all[0])
    #expect(p["step"] as? Int == 1)
    #expect(p["loss"] as? Double == 2.5)
    #expect(p["ok"] as? Bool == true)
    w.close()
    w.close()  // closing twice is harmless
}

@Test func metricsAppendKeepsAndTruncateDropsEarlierLines() throws {
    let path = try makeTempDir("metrics-append") + "/m.jsonl"
    do {
        let w = try MetricsWriter(path: path, append: false)
        w.write(["step": 0])
        w.close()
    }
    let a = try MetricsWriter(path: path, append: true)
    a.write(["step": 1])
    a.close()
    #expect(try lines(path) == [#"{"step":0}"#, #"{"step":1}"#])
    let t = try MetricsWriter(path: path, append: false)
    t.write(["step": 2])
    t.close()
    #expect(try lines(path) == [#"{"step":2}"#])
}

@Test func metricsConcurrentWritesStayWholeLines() throws {
    let path = try makeTempDir("metrics-threads") + "/m.jsonl"
    let w = try MetricsWriter(path: path, append: false)
    DispatchQueue.concurrentPerform(iterations: 200) { i in
        w.write(["i": .int(i), "pad": .string(String(repeating: "x", count: 500))])
    }
    w.close()
    let ls = try lines(path)
    #expect(ls.count == 200)
    let ids = try ls.map { try object($0)["i"] as! Int }
    #expect(Set(ids) == Set(0..<200))
}

@Test func metricsWriterReportsUnwritablePath() throws {
    let dir = try makeTempDir("metrics-bad")
    let blocker = dir + "/file"
    #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
    #expect(throws: FileError.self) { _ = try MetricsWriter(path: blocker + "/m.jsonl") }
}

/// The typed lines the trainers write read back as the same values: every RL field under its
/// file key, plugin metrics as "plugin/<name>", a non-finite value as null (absent on reading),
/// SFT's Float values, and both evaluation units. Anything else is not a line.
@Test func typedMetricsLinesRoundTripThroughTheFile() throws {
    let path = try makeTempDir("metrics-typed") + "/metrics.jsonl"
    let w = try MetricsWriter(path: path, append: false)
    var u = RLUpdateLine(update: 7)
    for (i, (_, field)) in RLUpdateLine.numbers.enumerated() { u[keyPath: field] = Double(i) + 0.25 }
    u.lr = 3e-5
    u.plugin = ["mine/rows": 3, "other": 0.5]
    var broken = RLUpdateLine(update: 8)
    broken.reward = .nan
    let lines: [MetricsLine] = [
        .update(u), .update(broken),
        .step(SFTStepLine(step: 3, loss: 0.1, lr: 2e-3, gradNorm: 1.5, tokensPerSecond: 900, trainSeconds: 12)),
        .eval(EvalLine(unit: .update, index: 7, accuracy: 0.5, correct: 1, total: 2, elapsed: 4)),
        .finalEval(EvalLine(unit: .step, index: 3, accuracy: 0.25, correct: 1, total: 4)),
    ]
    for line in lines { w.write(line) }
    w.close()
    let text = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(text[0].contains(#""plugin/mine/rows":3"#) && text[0].contains(#""lr":3e-05"#) && text[0].contains(#""embed_auc":"#))
    #expect(text[1].contains(#""reward":null"#))
    var expected = lines
    broken.reward = nil
    expected[1] = .update(broken)
    #expect(text.map { MetricsLine.parse($0) } == expected.map { Optional($0) })
    #expect(MetricsLine.parse(#"{"kind":"mystery","update":1}"#) == nil)
    #expect(MetricsLine.parse(#"{"kind":"update"}"#) == nil, "an update line needs its index")
    #expect(MetricsLine.parse(#"{"kind":"eval","accuracy":0.5}"#) == nil, "an evaluation names its update or step")
}
