import Foundation
import Testing
@testable import Engine

@Suite struct GSM8KLoaderTests {
    @Test func parsesRationaleAndAnswer() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("mini.jsonl", """
            {"question": "Q1?", "answer": "Half is 48/2 = <<48/2=24>>24.\\nTotal 48+24 = <<48+24=72>>72.\\n#### 72"}

            {"question": "Q2?", "answer": "Big 1000*2 = <<1000*2=2000>>2,000.\\n#### 2,000"}
            {"question": "Q3?", "answer": "  Lost 5.  \\n#### -5\\n"}
            """)
        let ex = try GSM8KLoader.load(path: path)
        #expect(ex.count == 3)
        #expect(ex[0] == MathExample(id: "gsm8k-1", question: "Q1?",
                                     cots: ["Half is 48/2 = 24.\nTotal 48+24 = 72."], answer: 72))
        // Blank line 2 is skipped but still counted, so ids stay equal to line numbers.
        #expect(ex[1].id == "gsm8k-3")
        #expect(ex[1].answer == 2000)
        #expect(ex[1].cots == ["Big 1000*2 = 2,000."])
        #expect(ex[2].cots == ["Lost 5."])
        #expect(ex[2].answer == -5)
    }

    /// "\r\n" is a single Character in Swift; an answer edited on Windows must still split into
    /// lines and find its '####' line (it used to be reported as having none).
    @Test func windowsLineEndingsInsideTheAnswerParseLikeNewlines() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("crlf.jsonl", """
            {"question": "Q1?", "answer": "Half is 48/2 = <<48/2=24>>24.\\r\\nTotal 48+24 = <<48+24=72>>72.\\r\\n#### 72\\r\\n"}
            {"question": "Q2?", "answer": "Old Mac.\\r#### 3"}
            """)
        let ex = try GSM8KLoader.load(path: path)
        #expect(ex.count == 2)
        #expect(ex[0] == MathExample(id: "gsm8k-1", question: "Q1?",
                                     cots: ["Half is 48/2 = 24.\nTotal 48+24 = 72."], answer: 72))
        #expect(ex[1].cots == ["Old Mac."])
        #expect(ex[1].answer == 3)
    }

    @Test func missingFileSaysCheckThePath() {
        let e = dataError { _ = try GSM8KLoader.load(path: "/nonexistent/train.jsonl") }
        #expect(e?.file == "/nonexistent/train.jsonl")
        #expect(e?.record == nil)
        #expect(e?.description.contains("file not found") == true)
        #expect(e?.description.contains("check the path") == true)
    }

    @Test func emptyFileIsAnError() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("empty.jsonl", "\n  \n")
        let e = dataError { _ = try GSM8KLoader.load(path: path) }
        #expect(e?.description == "\(path): file is empty; regenerate or re-download it; a dataset needs at least one record")
    }

    @Test func badJSONNamesTheLine() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("bad.jsonl", """
            {"question": "Q", "answer": "#### 1"}
            {"question": "Q", "answer": 
            """)
        let e = dataError { _ = try GSM8KLoader.load(path: path) }
        #expect(e?.file == path)
        #expect(e?.record == 2)
        #expect(e?.description.hasPrefix("\(path): record 2: line is not valid JSON;") == true)
    }

    @Test func nonObjectLineIsAnError() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("array.jsonl", "[1, 2]\n")
        let e = dataError { _ = try GSM8KLoader.load(path: path) }
        #expect(e?.record == 1)
        #expect(e?.message == "record is not a JSON object")
    }

    @Test func missingAndNonStringFieldsAreNamed() throws {
        let tmp = try TempFolder()
        let missing = try tmp.file("m.jsonl", "{\"question\": \"Q\", \"answer\": \"#### 1\"}\n{\"question\": \"Q\"}\n")
        let e1 = dataError { _ = try GSM8KLoader.load(path: missing) }
        #expect(e1?.description == "\(missing): record 2: field 'answer': missing; add 'answer' to the record as a string")

        let wrongType = try tmp.file("t.jsonl", "{\"question\": 7, \"answer\": \"#### 1\"}\n")
        let e2 = dataError { _ = try GSM8KLoader.load(path: wrongType) }
        #expect(e2?.record == 1)
        #expect(e2?.field == "question")
        #expect(e2?.message == "is not a string")
    }

    @Test func answerWithoutHashLineIsAnError() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("nohash.jsonl", "{\"question\": \"Q\", \"answer\": \"It is 4.\\n4\"}\n")
        let e = dataError { _ = try GSM8KLoader.load(path: path) }
        #expect(e?.description == "\(path): record 1: field 'answer': no final '#### N' line; each record needs the answer after '####' on the answer's last line")
    }

    @Test func nonNumericAnswerIsAnError() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("nan.jsonl", "{\"question\": \"Q\", \"answer\": \"x\\n#### seven\"}\n")
        let e = dataError { _ = try GSM8KLoader.load(path: path) }
        #expect(e?.record == 1)
        #expect(e?.field == "answer")
        #expect(e?.message == "'####' is followed by 'seven', not a number")
    }
}
