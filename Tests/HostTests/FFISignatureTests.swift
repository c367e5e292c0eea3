import Testing
@testable import Host

@Suite struct FFISignatureTests {
    typealias R = FFISignature.Role

    static let accepted: [(String, FFISignature.ReturnType, [FFISignature.Role])] = [
        ("f64(str,str)", .f64, [.completion, .gold]),
        ("f64(str)", .f64, [.completion]),
        ("f32(str,f64)", .f32, [.completion, .goldValue]),
        ("i32(str,str,str)", .i32, [.completion, .gold, .prompt]),
        ("i64( str , f64 , str )", .i64, [.completion, .goldValue, .prompt]),
        ("  f64 (str,str)  ", .f64, [.completion, .gold]),
        ("f64(completion:str, gold:str)", .f64, [.completion, .gold]),
        ("f64(gold_value:f64,completion:str)", .f64, [.goldValue, .completion]),
        ("f32(prompt : str, completion:str, gold:str, gold_value:f64)", .f32, [.prompt, .completion, .gold, .goldValue]),
        ("f64(prompt:str)", .f64, [.prompt]),
    ]

    @Test(arguments: accepted)
    func accepts(_ text: String, _ ret: FFISignature.ReturnType, _ roles: [FFISignature.Role]) throws {
        let s = try FFISignature(parsing: text)
        #expect(s == FFISignature(returnType: ret, parameters: roles))
        // The canonical form parses back to the same signature.
        #expect(try FFISignature(parsing: s.description) == s)
    }

    @Test func canonicalForm() throws {
        #expect(try FFISignature(parsing: "f64(str,f64)").description == "f64(completion:str, gold_value:f64)")
    }

    static let aParameter = "a parameter: str, f64 or role:type with role one of prompt, completion, gold, gold_value"
    static let positional = "completion, gold (str) or gold_value (f64), prompt"
    static let mixing = "every parameter positional (str, f64) or every one named (role:type)"

    static let rejected: [(String, String)] = [
        ("", "unexpected end at column 1; expected a return type: one of f32, f64, i32, i64"),
        ("double(str,str)", "unknown return type 'double' at column 1; expected one of f32, f64, i32, i64"),
        ("F64(str)", "unknown return type 'F64' at column 1; expected one of f32, f64, i32, i64"),
        ("void(str)", "unknown return type 'void' at column 1; expected one of f32, f64, i32, i64"),
        ("(str)", "unexpected '(' at column 1; expected a return type: one of f32, f64, i32, i64"),
        ("f64", "unexpected end at column 4; expected '('"),
        ("f64 str", "unexpected 's' at column 5; expected '('"),
        ("f64()", "empty parameter list at column 5; expected at least one parameter: str, f64 or role:type with role one of prompt, completion, gold, gold_value"),
        ("f64(str,sr)", "unknown type 'sr' at column 9; expected one of str, f64"),
        ("i32(const char*)", "unknown type 'const' at column 5; expected one of str, f64"),
        ("f64(str,str", "unexpected end at column 12; expected ',' or ')'"),
        ("f64(str;str)", "unexpected ';' at column 8; expected ',' or ')'"),
        ("f64(str,)", "unexpected ')' at column 9; expected \(aParameter)"),
        ("f64(,str)", "unexpected ',' at column 5; expected \(aParameter)"),
        ("f64(str,str))", "unexpected ')' at column 13; expected end of signature"),
        ("f64(str)x", "unexpected 'x' at column 9; expected end of signature"),
        ("f64(f64,str)", "positional parameter 1 (completion) cannot be f64 at column 5; expected str; positional roles are \(positional); name the parameters (role:type) for another order"),
        ("f64(str,str,f64)", "positional parameter 3 (prompt) cannot be f64 at column 13; expected str; positional roles are \(positional); name the parameters (role:type) for another order"),
        ("f64(str,str,str,str)", "too many positional parameters at column 17; expected at most 3 (\(positional)); name the parameters (role:type) to pass more"),
        ("f64(str,gold:str)", "named parameter after positional ones at column 9; expected \(mixing)"),
        ("f64(completion:str,str)", "positional parameter after named ones at column 20; expected \(mixing)"),
        ("f64(answer:str)", "unknown role 'answer' at column 5; expected one of prompt, completion, gold, gold_value"),
        ("f64(gold:f64)", "role 'gold' does not take f64 at column 10; expected str (gold_value:f64 passes the gold answer as a number)"),
        ("f64(gold_value:str)", "role 'gold_value' does not take str at column 16; expected f64 (gold:str passes the gold answer as text)"),
        ("f64(completion:f64)", "role 'completion' does not take f64 at column 16; expected str"),
        ("f64(completion:str,completion:str)", "role 'completion' given twice at column 20; expected each role at most once"),
        ("f64(completion)", "role 'completion' without a type at column 5; expected 'completion:str'"),
        ("f64(completion:)", "unexpected ')' at column 16; expected the type of 'completion': str"),
        ("f64(completion:int)", "unknown type 'int' at column 16; expected one of str, f64"),
        ("f64(str,\tstr)", "unexpected character U+0009 at column 9; expected \(aParameter)"),
        ("f64(stré)", "unexpected character U+00E9 at column 8; expected ',' or ')'"),
    ]

    @Test(arguments: rejected)
    func rejects(_ text: String, _ message: String) {
        #expect(throws: FFISignatureError.self) { try FFISignature(parsing: text) }
        do {
            _ = try FFISignature(parsing: text)
        } catch {
            #expect("\(error)" == "signature '\(text)': \(message)")
        }
    }

    @Test func messageOfTheBrief() {
        do {
            _ = try FFISignature(parsing: "f64(str,sr)")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "signature 'f64(str,sr)': unknown type 'sr' at column 9; expected one of str, f64")
            #expect(error.column == 9)
        }
    }
}
