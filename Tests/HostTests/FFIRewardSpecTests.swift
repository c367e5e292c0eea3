import Testing
@testable import Host

/// The --reward-fn value (lib.so:symbol:signature) and its wiring into `workbench rl`.
@Suite struct FFIRewardSpecTests {
    @Test func splitsFromTheRight() throws {
        let s = try FFIRewardSpec(parsing: "./libmine.so:score:f64(str,str)")
        #expect(s.path == "./libmine.so")
        #expect(s.symbol == "score")
        #expect(s.signature == FFISignature(returnType: .f64, parameters: [.completion, .gold]))
    }

    @Test func pathAndNamedSignatureMayHoldColons() throws {
        let s = try FFIRewardSpec(parsing: "/tmp/a:b/lib(1).so:my_score2:f32(gold_value:f64, completion:str)")
        #expect(s.path == "/tmp/a:b/lib(1).so")
        #expect(s.symbol == "my_score2")
        #expect(s.signature == FFISignature(returnType: .f32, parameters: [.goldValue, .completion]))
        #expect(s.description == "/tmp/a:b/lib(1).so:my_score2:f32(gold_value:f64, completion:str)")
    }

    static let shape = "lib.so:symbol:signature, e.g. ./libmine.so:score:f64(str,str)"
    static let rejected: [(String, String)] = [
        ("lib.so:score", "no signature (no '(' found); expected \(shape)"),
        ("lib.so:score:f64", "no signature (no '(' found); expected \(shape)"),
        ("f64(str)", "no ':' before the signature; expected \(shape)"),
        ("score:f64(str)", "only one ':' before the signature, so no library path or no symbol; expected \(shape)"),
        ("lib.so:score f64(str)", "only one ':' before the signature, so no library path or no symbol; expected \(shape)"),
        (":score:f64(str)", "empty library path; expected \(shape)"),
        ("lib.so::f64(str)", "empty symbol name; expected \(shape)"),
        ("lib.so:9score:f64(str)", "symbol '9score' is not a C identifier (ASCII letters, digits and '_', not starting with a digit)"),
        ("lib.so:my-score:f64(str)", "symbol 'my-score' is not a C identifier (ASCII letters, digits and '_', not starting with a digit)"),
        ("lib.so:score:f64(str,sr)", "signature 'f64(str,sr)': unknown type 'sr' at column 9; expected one of str, f64"),
        ("lib.so:score:f64(str)(", "signature 'f64(str)(': unexpected '(' at column 9; expected end of signature"),
    ]

    @Test(arguments: rejected)
    func rejects(_ value: String, _ message: String) {
        do {
            _ = try FFIRewardSpec(parsing: value)
            Issue.record("accepted '\(value)'")
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func rlCommandTakesTheOption() throws {
        let cmd = try RLCommand.parse(["--init", "ck", "--reward-fn", "./libmine.so:score:f64(str,str)"])
        #expect(cmd.rewardFn == (try FFIRewardSpec(parsing: "./libmine.so:score:f64(str,str)")))
        #expect(try RLCommand.parse(["--init", "ck"]).rewardFn == nil)
    }

    @Test func rlCommandReportsTheSignatureError() {
        do {
            _ = try RLCommand.parse(["--init", "ck", "--reward-fn", "lib.so:score:f64(str,sr)"])
            Issue.record("accepted")
        } catch {
            let message = RLCommand.message(for: error)
            #expect(message.contains("signature 'f64(str,sr)': unknown type 'sr' at column 9; expected one of str, f64"), "\(message)")
        }
    }

    @Test func helpShowsTheOptionAndAnExample() {
        let help = RLCommand.helpMessage(columns: 400)
        #expect(help.contains("--reward-fn <lib.so:symbol:signature>"))
        #expect(help.contains("./libmine.so:score:f64(str,str)"))
    }
}
