import Foundation

/// The C source of the reward functions the FFI tests call. It lives in a Swift string rather
/// than in Tests/HostTests/Fixtures/ffi_rewards.c because SwiftPM refuses a test target that
/// holds both Swift and C sources ("contains mixed language source files") unless Package.swift
/// excludes the folder; `FFIFixture.library` writes it out and builds it with `cc` at test time.
let ffiRewardsC = #"""
#include <math.h>
#include <stdint.h>
#include <string.h>

/* 1 when the completion is exactly the gold answer text, else 0: the example of the help text. */
double exact(const char* completion, const char* gold) {
    return strcmp(completion, gold) == 0 ? 1.0 : 0.0;
}

/* Byte lengths, so a test can see which string arrived where and that it is UTF-8. */
double lengths(const char* completion, const char* gold) {
    return 1000.0 * (double)strlen(completion) + (double)strlen(gold);
}

/* f32: the completion's length over 4, exact in binary floating point. */
float quarter_length(const char* completion, const char* gold) {
    (void)gold;
    return (float)strlen(completion) / 4.0f;
}

/* i32, negative on purpose: the host must sign-extend the result libffi widened. */
int32_t negative_count(const char* completion, const char* gold) {
    int32_t n = 0;
    for (const char* p = completion; *p; p++) if (*p == gold[0]) n--;
    return n;
}

/* i64 beyond 32 bits. */
int64_t big(const char* completion) {
    return ((int64_t)1 << 40) + (int64_t)strlen(completion);
}

/* Named form, roles out of the positional order. */
double weighted(double gold_value, const char* prompt, const char* completion) {
    return 100.0 * gold_value + 10.0 * (double)strlen(prompt) + (double)strlen(completion);
}

/* Positional completion, gold, prompt. */
double three(const char* completion, const char* gold, const char* prompt) {
    return 100.0 * (double)strlen(completion) + 10.0 * (double)strlen(gold) + (double)strlen(prompt);
}

/* NaN for the completion "bad", 1 otherwise. */
double nan_on_bad(const char* completion) {
    return strcmp(completion, "bad") == 0 ? NAN : 1.0;
}

float infinite(const char* completion) {
    (void)completion;
    return INFINITY;
}

/* Finite as a double, infinite as a float. */
double huge(const char* completion) {
    (void)completion;
    return 1e300;
}
"""#

enum FFIFixture {
    struct BuildError: Error, CustomStringConvertible { var description: String }

    /// The folder holding the built library, built once per test process.
    static let built: Result<URL, BuildError> = build()

    /// Path of libffi_rewards.so.
    static func library() throws -> String { try built.get().appendingPathComponent("libffi_rewards.so").path }

    static func folder() throws -> URL { try built.get() }

    private static func build() -> Result<URL, BuildError> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workbench-ffi-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let source = dir.appendingPathComponent("ffi_rewards.c")
            try ffiRewardsC.write(to: source, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Wextra", "-Werror", "-o",
                           dir.appendingPathComponent("libffi_rewards.so").path, source.path]
            let err = Pipe()
            p.standardError = err
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                return .failure(BuildError(description: "cc failed (\(p.terminationStatus)): \(text)"))
            }
            return .success(dir)
        } catch {
            return .failure(BuildError(description: "could not build the FFI fixture: \(error)"))
        }
    }
}
