import Foundation
import Testing

/// `workbench plugin list|check` as a user runs them: the binary the test command built, as a
/// subprocess, checking exit codes and the lines printed.
@Suite(.enabled(if: PluginTestSupport.cc != nil && FileManager.default.isExecutableFile(atPath: PluginTestSupport.workbench),
                "needs cc and .build/release/workbench (built by scripts/test.sh)"))
struct PluginCLITests {
    typealias S = PluginTestSupport

    @Test func listShowsIdsKindsAndConfigKeys() throws {
        let path = try S.cExample()
        let r = try S.run(S.workbench, ["plugin", "list", path])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("\(path): 2 plugins (plugin ABI 1.0)"))
        #expect(r.stdout.contains("org.example.reward.format-aware 1.0.0  [reward]"))
        #expect(r.stdout.contains("org.example.contrastive.triplet 1.0.0  [contrastive]"))
        #expect(r.stdout.range(of: #"margin\s+float\s+default 0.2\s+cosine margin"#, options: .regularExpression) != nil)
    }

    @Test func checkPassesOnTheCExample() throws {
        let r = try S.run(S.workbench, ["plugin", "check", try S.cExample(), "--config", "margin=0.3,partial=0.2"])
        #expect(r.status == 0, "\(r.all)")
        #expect(!r.stdout.contains("FAIL"))
        #expect(r.stdout.contains("PASS  org.example.contrastive.triplet  backward vs finite differences (view 1, rollout)"))
        #expect(r.stdout.contains("PASS  org.example.contrastive.triplet  create: margin=0.3,min-reward=1"))
        #expect(r.stdout.contains("checks passed"))
    }

    /// A config value with commas and spaces reaches create whole, from --config and from a
    /// --plugin spec (the fixture's create refuses, echoing the value between brackets).
    @Test func quotedConfigValuesReachThePluginWhole() throws {
        let path = try S.fixture("config_echo")
        let check = try S.run(S.workbench, ["plugin", "check", path, "--config", #"prefix="Therefore, the answer is:""#])
        #expect(check.status != 0 && check.all.contains("prefix is [Therefore, the answer is:]"), "\(check.all)")
        let rl = try S.run(S.workbench, ["rl", "--init", "/nonexistent/checkpoint", "--out", NSTemporaryDirectory() + "wb-echo-\(getpid())",
                                         "--plugin", path + #":prefix=" The answer, in words: ""#])
        #expect(rl.status != 0 && rl.all.contains("prefix is [ The answer, in words: ]"), "\(rl.all)")
        let unclosed = try S.run(S.workbench, ["plugin", "check", path, "--config", #"prefix="Therefore, the answer"#])
        #expect(unclosed.status != 0 && unclosed.all.contains("opens a double quote that is never closed"), "\(unclosed.all)")
    }

    @Test func checkFailsWithNonZeroExitOnBrokenPlugins() throws {
        let r = try S.run(S.workbench, ["plugin", "check", try S.fixture("nan_output")])
        #expect(r.status != 0)
        #expect(r.stdout.contains("FAIL  org.fixture.reward.nan  scores of canonical completions (gold 1800, no CoT embeddings)"))
        #expect(r.stdout.contains("backward wrote NaN into grad_values[17]"))
        #expect(r.stdout.contains("FAIL  org.fixture.pooling.double-grad  backward vs finite differences (token embeddings)"))
        #expect(r.stdout.contains("checks failed"))
    }

    /// What a plugin logs shows under the check whose call logged it, at every level, and
    /// nothing of it on stderr (it is collected, not printed).
    @Test func checkShowsEachLogLineUnderItsCheck() throws {
        let r = try S.run(S.workbench, ["plugin", "check", try S.fixture("logging_reward")])
        #expect(r.status == 0, "\(r.all)")
        let id = "org.fixture.reward.logging"
        #expect(r.stdout.contains("PASS  \(id)  create: no config keys\n      log (info): answer table: the built-in rules\nPASS  "), "\(r.stdout)")
        let scoreLogs = "      log (warning): scoring without an answer table\n      log (debug): score called\n"
        #expect(r.stdout.contains(scoreLogs + "PASS  \(id)  score with 16-dim CoT embeddings"), "\(r.stdout)")
        #expect(r.stdout.contains("PASS  \(id)  score is deterministic (the same batch twice)\n" + scoreLogs + scoreLogs), "\(r.stdout)")
        #expect(!r.stderr.contains("answer table"), "\(r.stderr)")
    }

    /// A reward giving 1 to everything passes, but its table check reads WARN and names every
    /// completion RL would wrongly count as right; the exit status stays 0.
    @Test func checkWarnsAboutARewardThatCountsNonAnswersAsRight() throws {
        let r = try S.run(S.workbench, ["plugin", "check", try S.fixture("always_one")])
        #expect(r.status == 0, "\(r.all)")
        let id = "org.fixture.reward.always-one"
        #expect(r.stdout.contains("WARN  \(id)  scores of canonical completions (gold 1800, no CoT embeddings): 8 completions of one question, 4 scored against what the engine reads"), "\(r.stdout)")
        for label in ["wrong number (18, the answer for one day)", "no answer line (1800 only in the CoT)", "empty", "non-UTF-8 bytes, no answer line"] {
            #expect(r.stdout.contains("      WARNING: \"\(label)\" scores 1 (≥ 1), so RL's rollout accuracy and CARFT's reward ≥ 1 masks take it for a right answer"), "\(label): \(r.stdout)")
        }
        #expect(!r.stdout.contains("WARNING: \"correct"), "\(r.stdout)")
        #expect(r.stdout.range(of: #"      empty +no answer +1 +yes\n"#, options: .regularExpression) != nil, "\(r.stdout)")
        #expect(r.stdout.hasSuffix("5 checks passed (1 with warnings: the WARN lines)\n"), "\(r.stdout)")
    }

    /// The built-in rewards score the canonical completions as the engine reads them: no WARN,
    /// and the rows a reward must get right are right.
    @Test func builtinRewardsScoreTheCanonicalCompletionsWithoutWarnings() throws {
        let r = try S.run(S.workbench, ["plugin", "check", "builtin"])
        #expect(r.status == 0, "\(r.all)")
        #expect(!r.stdout.contains("WARN"), "\(r.stdout)")
        for id in ["exact", "reft-partial", "equation-checked", "carft-embedding"] {
            #expect(r.stdout.contains("PASS  org.workbench.reward.\(id)  scores of canonical completions (gold 1800, no CoT embeddings): 8 completions of one question\n"),
                    "\(id): \(r.stdout)")
        }
        for row in [#"correct +1800 \(right\) +1 +yes"#, #"very long \(correct, \d+ characters\) +1800 \(right\) +1 +yes"#,
                    #"correct, comma-formatted \("1,800"\) +1800 \(right\) +1 +yes"#, #"no answer line \(1800 only in the CoT\) +no answer +0 +no"#,
                    #"wrong number \(18, the answer for one day\) +18 \(wrong\) +0\.1 +no"#] {
            let rows = r.stdout.components(separatedBy: "\n").filter { $0.range(of: "^      " + row + "$", options: .regularExpression) != nil }
            #expect(rows.count >= 3, "\(row): \(r.stdout)")
        }
    }

    @Test func checkReportsALoadFailure() throws {
        let path = try S.fixture("wrong_major")
        let r = try S.run(S.workbench, ["plugin", "check", path])
        #expect(r.status != 0)
        #expect(r.stdout.contains("FAIL  \(path)  load: \(path): is built for plugin ABI 2"))
    }

    @Test func unknownConfigKeyIsAnError() throws {
        let r = try S.run(S.workbench, ["plugin", "check", try S.cExample(), "--config", "margn=0.3"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no plugin in the library has the config key 'margn'; the keys are: answer-prefix, length-penalty, margin, max-chars, min-reward, partial"))
    }

    @Test func builtinListAndCheck() throws {
        let list = try S.run(S.workbench, ["plugin", "list", "builtin"])
        #expect(list.status == 0, "\(list.all)")
        #expect(list.stdout.hasPrefix("builtin: "))
        let check = try S.run(S.workbench, ["plugin", "check", "builtin"])
        #expect(check.status == 0, "\(check.all)")
    }
}
