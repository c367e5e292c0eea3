import Testing
@testable import Engine

@Suite struct ByteTokenizerTests {
    @Test func roundTripsASCII() {
        let t = ByteTokenizer()
        let ids = t.encode("Hi 42!")
        #expect(ids == [72, 105, 32, 52, 50, 33])
        #expect(t.decode(ids) == "Hi 42!")
        #expect(t.vocabSize == 258 && t.eosId == 256 && t.padId == 257)
    }

    @Test func roundTripsMultiByteUTF8() {
        let t = ByteTokenizer()
        for text in ["café", "naïve résumé", "数学题", "🙂 + 🚀 = ✨", "Ünïcödé\n\ttabs"] {
            let ids = t.encode(text)
            #expect(ids.count == text.utf8.count)
            #expect(ids.allSatisfy { (0...255).contains($0) })
            #expect(t.decode(ids) == text)
        }
        #expect(t.encode("é") == [0xC3, 0xA9])
        #expect(t.encode("🙂") == [0xF0, 0x9F, 0x99, 0x82])
    }

    @Test func handlesEmptyString() {
        let t = ByteTokenizer()
        #expect(t.encode("") == [])
        #expect(t.decode([]) == "")
    }

    @Test func decodeSkipsSpecials() {
        let t = ByteTokenizer()
        #expect(t.decode([t.padId, 65, t.eosId, 66, t.padId, t.padId]) == "AB")
        #expect(t.decode([t.eosId]) == "")
    }

    @Test func decodesBrokenUTF8WithReplacementCharacter() {
        let t = ByteTokenizer()
        // The first two bytes of the four-byte "🙂", then a plain letter.
        #expect(t.decode([0xF0, 0x9F, 65]) == "\u{FFFD}A")
        // A lone continuation byte and a truncated tail.
        #expect(t.decode([0x80, 66, 0xC3]) == "\u{FFFD}B\u{FFFD}")
    }
}
