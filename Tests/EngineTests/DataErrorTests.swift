import Testing
@testable import Engine

@Suite struct DataErrorTests {
    @Test func descriptionNamesFileRecordFieldAndRemedy() {
        let e = DataError(file: "gsm8k/train.jsonl", record: 12, field: "answer",
                          message: "no final '#### N' line", remedy: "each record needs the answer after '####'")
        #expect(e.description == "gsm8k/train.jsonl: record 12: field 'answer': no final '#### N' line; each record needs the answer after '####'")
    }

    @Test func descriptionOmitsMissingLocationParts() {
        let e = DataError(file: "x.json", message: "file not found", remedy: "check the path")
        #expect(e.description == "x.json: file not found; check the path")
        let r = DataError(file: "x.json", record: 3, message: "record is not a JSON object", remedy: "fix it")
        #expect(r.description == "x.json: record 3: record is not a JSON object; fix it")
    }
}
