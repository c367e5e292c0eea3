import Foundation
import Testing
@testable import Engine

private func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-12) }

@Test func linearScheduleKeySteps() {
    let s = LRSchedule.linear(peak: 1e-3, warmupSteps: 10, totalSteps: 110, final: 1e-4)
    #expect(close(s.lr(at: 0), 1e-4))     // peak / warmup
    #expect(close(s.lr(at: 4), 5e-4))
    #expect(close(s.lr(at: 9), 1e-3))     // last warm-up step reaches the peak
    #expect(close(s.lr(at: 10), 1e-3))    // decay starts from the peak
    #expect(close(s.lr(at: 60), 5.5e-4))  // halfway down
    #expect(close(s.lr(at: 109), 1e-3 - 0.99 * 9e-4))
    #expect(close(s.lr(at: 110), 1e-4))   // reaches final at totalSteps
    #expect(close(s.lr(at: 500), 1e-4))   // and stays there
    #expect(close(s.lr(at: -3), 1e-4))
}

@Test func linearScheduleWithoutWarmupOrFinal() {
    let s = LRSchedule.linear(peak: 2, warmupSteps: 0, totalSteps: 4)
    #expect([0, 1, 2, 3, 4, 5].map { s.lr(at: $0) } == [2, 1.5, 1, 0.5, 0, 0])
    let warmOnly = LRSchedule.linear(peak: 1, warmupSteps: 4, totalSteps: 4)
    #expect([0, 1, 2, 3, 4].map { warmOnly.lr(at: $0) } == [0.25, 0.5, 0.75, 1, 0])
    #expect(LRSchedule.constant(lr: 3e-4).lr(at: 12345) == 3e-4)
}

@Test func scheduleCodableRoundTrip() throws {
    for s in [LRSchedule.constant(lr: 1e-3), .linear(peak: 1e-3, warmupSteps: 5, totalSteps: 50, final: 1e-5)] {
        let back = try JSONDecoder().decode(LRSchedule.self, from: JSONEncoder().encode(s))
        #expect(back == s)
    }
}
