/// A setting an Engine message asks the user to change. The Engine names it in its own words
/// ("the learning rate"); a front end that calls it something else (a command-line flag) renders
/// the same message with its own names, so the Engine never speaks in one front end's terms.
public enum TrainingSetting: String, Sendable, CaseIterable {
    case learningRate, updates, minutes, steps, batchSize, samplesPerQuestion, valueHead, maxNewTokens
    case algorithm, referenceCheckpoint, outputFolder, earlyStopFraction

    /// The setting in words, as the Engine's own description of a message reads.
    public var words: String {
        switch self {
        case .learningRate: "the learning rate"
        case .updates: "the number of updates"
        case .minutes: "the minutes"
        case .steps: "the number of steps"
        case .batchSize: "the batch size"
        case .samplesPerQuestion: "the samples per question"
        case .valueHead: "the value head"
        case .maxNewTokens: "the new-token limit"
        case .algorithm: "the algorithm"
        case .referenceCheckpoint: "the starting-checkpoint setting"
        case .outputFolder: "output folder"
        case .earlyStopFraction: "the early-stop fraction of the start accuracy"
        }
    }
}

/// Text with the settings it names kept apart, written as an interpolated string:
/// `"lower \(setting: .learningRate) (now \(lr))"`. `description` uses the Engine's words;
/// `text(naming:)` the caller's names for the settings.
public struct SettingMessage: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    enum Part: Sendable, Equatable {
        case text(String)
        case setting(TrainingSetting)
    }

    var parts: [Part]

    public init(stringLiteral value: String) { parts = [.text(value)] }

    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    public struct Interpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        public mutating func appendInterpolation<T>(_ value: T) { parts.append(.text("\(value)")) }
        public mutating func appendInterpolation(setting: TrainingSetting) { parts.append(.setting(setting)) }
        /// Another message, its settings kept.
        public mutating func appendInterpolation(_ message: SettingMessage) { parts += message.parts }
    }

    /// The settings this message names, in order.
    public var settings: [TrainingSetting] { parts.compactMap { if case .setting(let s) = $0 { s } else { nil } } }

    /// The message with each setting called `name(setting)`.
    public func text(naming name: (TrainingSetting) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let t): t
            case .setting(let s): name(s)
            }
        }.joined()
    }

    public var description: String { text(naming: \.words) }

    /// This message followed by `other`.
    public static func + (lhs: SettingMessage, rhs: SettingMessage) -> SettingMessage {
        SettingMessage(parts: lhs.parts + rhs.parts)
    }

    init(parts: [Part]) { self.parts = parts }
}

/// An Engine error whose text names settings; the CLI renders it with its flags.
public protocol SettingError: Error, CustomStringConvertible {
    var message: SettingMessage { get }
}

extension SettingError {
    public var description: String { message.description }
}

/// A training run's error (SFT or RL), saying whether training broke down (a loss or gradient
/// stopped being a number) rather than being refused or failing for another reason: a
/// comparison counts the first as a collapse.
public struct TrainingError: SettingError {
    public var message: SettingMessage
    public var diverged: Bool
    public init(_ message: SettingMessage, diverged: Bool = false) {
        self.message = message
        self.diverged = diverged
    }
}
