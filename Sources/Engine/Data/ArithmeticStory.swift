/// The wording of a problem as a short story: a person, a kind of object and one sentence per
/// step. Varying these keeps the model from keying on fixed phrases, while the sentences stay
/// short because every byte is a token for the character-level model.
struct ArithmeticStory: Sendable {
    var name: String
    /// Capitalized ("He"/"She"); lowercased where it is not the first word.
    var pronoun: String
    var object: String
    /// One sentence per problem step, e.g. "He buys 3 more."
    var stepSentences: [String]
    var closing: String

    static let people = [("Tom", "He"), ("Ann", "She"), ("Sam", "He"), ("Mia", "She"), ("Ben", "He"),
                         ("Zoe", "She"), ("Max", "He"), ("Eva", "She"), ("Leo", "He"), ("Amy", "She")]
    static let objects = ["apples", "pens", "cards", "eggs", "books", "coins", "cups", "shells", "beads", "stamps"]
    static let addVerbs = ["buys {n} more", "finds {n}", "gets {n}", "wins {n} more"]
    static let subVerbs = ["loses {n}", "sells {n}", "gives away {n}", "uses {n}"]
    /// Indexed by factor - 2; the generator keeps factors within 2...4.
    static let mulVerbs = ["doubles them", "triples them", "quadruples them"]
    static let closings = ["How many now?", "How many {o} now?", "How many does {p} have?"]

    static func draw(for problem: ArithmeticProblem, using rng: inout RNG) -> ArithmeticStory {
        let (name, pronoun) = people.randomElement(using: &rng)!
        let object = objects.randomElement(using: &rng)!
        let sentences = problem.steps.map { step -> String in
            let verb = switch step.operation {
            case .add: addVerbs.randomElement(using: &rng)!
            case .sub: subVerbs.randomElement(using: &rng)!
            case .mul: mulVerbs[step.operand - 2]
            }
            return "\(pronoun) \(verb.replacingOccurrences(of: "{n}", with: String(step.operand)))."
        }
        let closing = closings.randomElement(using: &rng)!
            .replacingOccurrences(of: "{o}", with: object)
            .replacingOccurrences(of: "{p}", with: pronoun.lowercased())
        return ArithmeticStory(name: name, pronoun: pronoun, object: object,
                               stepSentences: sentences, closing: closing)
    }

    func question(for problem: ArithmeticProblem) -> String {
        (["\(name) has \(problem.start) \(object)."] + stepSentences + [closing]).joined(separator: " ")
    }
}

import Foundation
