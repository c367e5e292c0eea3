import Engine
import Foundation
import Testing
@testable import Host

/// Calls the C functions of FFIFixture as --reward-fn does, through the reward plugin that wraps
/// them (FFIRewardPlugin), and compares with values worked out by hand from the fixture's source.
@Suite struct FFIRewardPluginTests {
    func reward(_ symbol: String, _ signature: String) throws -> PluginReward {
        try reward("\(try FFIFixture.library()):\(symbol):\(signature)")
    }

    func reward(_ spec: String) throws -> PluginReward {
        try FFIRewardPlugin.reward(FFIRewardSpec(parsing: spec))
    }

    /// The prepared call alone, for results a Float score would round.
    func call(_ symbol: String, _ signature: String, _ completion: String) throws -> Double {
        let c = try FFIRewardCall(spec: FFIRewardSpec(parsing: "\(try FFIFixture.library()):\(symbol):\(signature)"))
        return completion.withCString { completion in
            "72".withCString { gold in "".withCString { c.call(prompt: $0, completion: completion, gold: gold, goldValue: 72) } }
        }
    }

    /// What a failing create or score says: the plugin's origin and id, the call, then the C side's words.
    func failure(_ call: String, _ status: String, _ message: String) -> String {
        "--reward-fn: plugin org.workbench.reward.c-function: \(call) failed with \(status): \(message)"
    }

    func input(_ completion: String, gold: Double = 72, question: String = "") -> RewardInput {
        RewardInput(question: question, completion: completion, gold: gold)
    }

    @Test func exactMatchAgainstTheGoldText() throws {
        let r = try reward("exact", "f64(str,str)")
        #expect(try r.scores([input("72"), input("71"), input("72.0"), input("0.5", gold: 0.5), input("-3", gold: -3)]) == [1, 0, 0, 1, 1])
        #expect(r.name == "org.workbench.reward.c-function")
        #expect(r.instance.config.map(\.value) == ["\(try FFIFixture.library()):exact:f64(completion:str, gold:str)"])
    }

    @Test func stringsArriveAsUTF8InTheirPlaces() throws {
        let r = try reward("lengths", "f64(completion:str, gold:str)")
        // "héllo" is 6 bytes in UTF-8; gold 72 is "72", 0.5 is "0.5", 1e20 prints in Swift's shortest form "1e+20".
        #expect(try r.scores([input("héllo"), input("", gold: 0.5), input("ab", gold: 1e20)]) == [6002, 3, 2005])
    }

    @Test func float32Result() throws {
        let r = try reward("quarter_length", "f32(str,str)")
        #expect(try r.scores([input("abc"), input(""), input("abcdefghij")]) == [0.75, 0, 2.5])
    }

    @Test func int32ResultIsSignExtended() throws {
        let r = try reward("negative_count", "i32(str,str)")
        #expect(try call("negative_count", "i32(str,str)", "7x77") == -3)
        #expect(try r.scores([input("7x77"), input("none", gold: 5)]) == [-3, 0])
    }

    @Test func int64Result() throws {
        let r = try reward("big", "i64(str)")
        #expect(try call("big", "i64(str)", "abc") == 1_099_511_627_779)  // 2^40 + 3, exact as a double
        #expect(try r.scores([input("abc")]) == [Float(1_099_511_627_779.0)])
    }

    @Test func namedRolesInAnyOrder() throws {
        let r = try reward("weighted", "f64(gold_value:f64, prompt:str, completion:str)")
        #expect(try r.scores([input("xy", gold: 2.5, question: "abcd")]) == [292])
    }

    @Test func positionalPrompt() throws {
        let r = try reward("three", "f64(str,str,str)")
        // completion 5 bytes, gold "72" 2 bytes, prompt 3 bytes.
        #expect(try r.scores([input("hello", question: "why")]) == [523])
    }

    @Test func nanNamesLibrarySymbolAndRollout() throws {
        let lib = try FFIFixture.library()
        let r = try reward("nan_on_bad", "f64(str)")
        #expect(try r.scores([input("ok")]) == [1])
        do {
            _ = try r.scores([input("ok"), input("bad"), input("ok")])
            Issue.record("NaN accepted")
        } catch {
            #expect("\(error)" == failure("score", "WB_ERROR", "reward function nan_on_bad in '\(lib)' returned nan for rollout 1 of a batch of 3; a reward must be a finite number"))
        }
    }

    @Test func infinityIsRefused() throws {
        let lib = try FFIFixture.library()
        do {
            _ = try reward("infinite", "f32(str)").scores([input("a")])
            Issue.record("inf accepted")
        } catch {
            #expect("\(error)" == failure("score", "WB_ERROR", "reward function infinite in '\(lib)' returned inf for rollout 0 of a batch of 1; a reward must be a finite number"))
        }
    }

    @Test func doubleTooLargeForFloatIsRefused() throws {
        let lib = try FFIFixture.library()
        do {
            _ = try reward("huge", "f64(str)").scores([input("a")])
            Issue.record("1e300 accepted")
        } catch {
            #expect("\(error)" == failure("score", "WB_ERROR", "reward function huge in '\(lib)' returned 1e+300 for rollout 0 of a batch of 1, which does not fit a 32-bit float reward"))
        }
    }

    @Test func missingSymbol() throws {
        let lib = try FFIFixture.library()
        do {
            _ = try reward("no_such_function", "f64(str,str)")
            Issue.record("missing symbol accepted")
        } catch {
            #expect("\(error)" == failure("create", "WB_ERROR_CONFIG", """
                symbol 'no_such_function' not found in '\(lib)'; `nm -D --defined-only \(lib)` lists the functions \
                it exports. A function compiled as C++ needs extern "C" (its name is mangled otherwise), \
                and one built with -fvisibility=hidden needs __attribute__((visibility("default")))
                """))
        }
    }

    @Test func missingFile() throws {
        let path = try FFIFixture.folder().appendingPathComponent("missing.so").path
        do {
            _ = try reward("\(path):exact:f64(str,str)")
            Issue.record("missing file accepted")
        } catch {
            #expect("\(error)" == failure("create", "WB_ERROR_CONFIG", "reward library '\(path)' does not exist"))
        }
    }

    @Test func missingRelativeFileNamesTheFolder() {
        do {
            _ = try reward("no_such_reward_library.so:exact:f64(str,str)")
            Issue.record("missing file accepted")
        } catch {
            #expect("\(error)" == failure("create", "WB_ERROR_CONFIG", "reward library 'no_such_reward_library.so' does not exist (relative to \(FileManager.default.currentDirectoryPath))"))
        }
    }

    @Test func notALibrary() throws {
        let path = try FFIFixture.folder().appendingPathComponent("ffi_rewards.c").path
        do {
            _ = try reward("\(path):exact:f64(str,str)")
            Issue.record("a C source file loaded as a library")
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(failure("create", "WB_ERROR_CONFIG", "'\(path)' could not be loaded as a shared library: ")), "\(message)")
        }
    }

    @Test func folderIsNotALibrary() throws {
        let path = try FFIFixture.folder().path
        do {
            _ = try reward("\(path):exact:f64(str,str)")
            Issue.record("a folder loaded as a library")
        } catch {
            #expect("\(error)" == failure("create", "WB_ERROR_CONFIG", "reward library '\(path)' is a folder, not a shared library"))
        }
    }

    @Test func sameLibraryTwice() throws {
        // dlopen reference-counts and nothing is closed: two instances share one mapping.
        let a = try reward("exact", "f64(str,str)"), b = try reward("lengths", "f64(str,str)")
        #expect(try a.scores([input("72")]) == [1])
        #expect(try b.scores([input("72")]) == [2002])
    }

    @Test func withoutAFunctionCreateSaysWhatToSet() throws {
        let d = try PluginDescriptor(FFIRewardPlugin.descriptor, library: FFIRewardPlugin.origin)
        #expect(d.kind == .reward && d.configKeys.map(\.name) == ["function"])
        do {
            _ = try PluginReward(d)
            Issue.record("a c-function reward without a function was created")
        } catch {
            #expect("\(error)" == failure("create", "WB_ERROR_CONFIG", "no C function given; set function=\"lib.so:symbol:signature\" (what --reward-fn takes)"))
        }
    }

    @Test func aPathWithColonsSurvivesTheConfigRoundTrip() throws {
        // The config value is the spec's canonical text, parsed again by create: a ':' in the
        // path must come back as the same library.
        let folder = try FFIFixture.folder().appendingPathComponent("with:colon")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("libffi_rewards.so").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: try FFIFixture.library(), toPath: copy)
        #expect(try reward("\(copy):exact:f64(str,str)").scores([input("72"), input("7")]) == [1, 0])
    }
}
