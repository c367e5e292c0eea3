import Foundation
import Testing
@testable import Engine

@Suite struct ReFTJSONLoaderTests {
    @Test func parsesCoTAndStripsFinalAnswerSentence() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("mini.json", """
            [
              {"item_id": "svamp_0", "question": "Q0?", "answer_cot": "29 * 7 = 203 pairs\\n\\nTherefore, the answer is <203>.", "answer_value": "203.0"},
              {"question": "Q1?", "answer_cot": "1 + 1 = 2.\\nTherefore, the answer is: 2", "answer_value": 2},
              {"item_id": 5, "question": "Q2?", "answer_cot": "It is 3. Therefore, the answer is <3>.", "answer_value": "3"},
              {"question": "Q3?", "answer_value": "1,000"},
              {"question": "Q4?", "answer_cot": "Therefore, the answer is clear: 4 + 4 = 8.", "answer_value": "8"}
            ]
            """)
        let ex = try ReFTJSONLoader.load(path: path)
        #expect(ex.count == 5)
        #expect(ex[0] == MathExample(id: "svamp_0", question: "Q0?", cots: ["29 * 7 = 203 pairs"], answer: 203))
        #expect(ex[1] == MathExample(id: "mini-2", question: "Q1?", cots: ["1 + 1 = 2."], answer: 2))
        #expect(ex[2].id == "5")
        #expect(ex[2].cots == ["It is 3."])
        #expect(ex[3].cots == [])
        #expect(ex[3].answer == 1000)
        // Not a bare answer statement, so it is reasoning and stays.
        #expect(ex[4].cots == ["Therefore, the answer is clear: 4 + 4 = 8."])
    }

    @Test func notAnArrayIsAnError() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("obj.json", "{\"question\": \"Q\", \"answer_value\": \"1\"}")
        let e = dataError { _ = try ReFTJSONLoader.load(path: path) }
        #expect(e?.file == path)
        #expect(e?.message == "top level is not a JSON array")
    }

    @Test func invalidJSONAndEmptyArrayAreErrors() throws {
        let tmp = try TempFolder()
        let bad = try tmp.file("bad.json", "[{\"question\": ")
        #expect(dataError { _ = try ReFTJSONLoader.load(path: bad) }?.message == "not valid JSON")
        let empty = try tmp.file("empty.json", "[]")
        #expect(dataError { _ = try ReFTJSONLoader.load(path: empty) }?.message == "the array has no records")
        let blank = try tmp.file("blank.json", "")
        #expect(dataError { _ = try ReFTJSONLoader.load(path: blank) }?.message == "file is empty")
    }

    @Test func recordErrorsNameRecordAndField() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("recs.json", """
            [{"question": "Q", "answer_value": "1"}, "oops"]
            """)
        let notObject = dataError { _ = try ReFTJSONLoader.load(path: path) }
        #expect(notObject?.record == 2)
        #expect(notObject?.field == nil)
        #expect(notObject?.message == "record is not a JSON object")

        let noQuestion = try tmp.file("q.json", "[{\"answer_value\": \"1\"}]")
        let e1 = dataError { _ = try ReFTJSONLoader.load(path: noQuestion) }
        #expect(e1?.description == "\(noQuestion): record 1: field 'question': missing; add 'question' to the record as a string")

        let noAnswer = try tmp.file("a.json", "[{\"question\": \"Q\", \"answer_value\": \"1\"}, {\"question\": \"Q\"}]")
        let e2 = dataError { _ = try ReFTJSONLoader.load(path: noAnswer) }
        #expect(e2?.record == 2)
        #expect(e2?.field == "answer_value")
        #expect(e2?.message == "missing")

        let badAnswer = try tmp.file("b.json", "[{\"question\": \"Q\", \"answer_value\": \"12abc\"}]")
        let e3 = dataError { _ = try ReFTJSONLoader.load(path: badAnswer) }
        #expect(e3?.description == "\(badAnswer): record 1: field 'answer_value': '12abc' is not a number; give 'answer_value' as a number or a numeric string, e.g. \"72\" or 72")

        let boolAnswer = try tmp.file("c.json", "[{\"question\": \"Q\", \"answer_value\": true}]")
        #expect(dataError { _ = try ReFTJSONLoader.load(path: boolAnswer) }?.message == "is neither a number nor a string")

        let badCoT = try tmp.file("d.json", "[{\"question\": \"Q\", \"answer_value\": 1, \"answer_cot\": [\"x\"]}]")
        let e4 = dataError { _ = try ReFTJSONLoader.load(path: badCoT) }
        #expect(e4?.field == "answer_cot")
        #expect(e4?.message == "is not a string")
    }
}
