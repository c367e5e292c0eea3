import Engine

/// The command-line flag for each setting an Engine message names. The Engine speaks in its own
/// words ("lower the learning rate"); what a user of this CLI reads names the flag ("lower --lr").
enum SettingFlags {
    static func flag(_ setting: TrainingSetting) -> String {
        switch setting {
        case .learningRate: "--lr"
        case .updates: "--updates"
        case .minutes: "--minutes"
        case .steps: "--steps"
        case .batchSize: "--batch"
        case .samplesPerQuestion: "--group"
        case .valueHead: "--value-head"
        case .maxNewTokens: "--max-new-tokens"
        case .algorithm: "--algo"
        case .referenceCheckpoint: "--init"
        case .outputFolder: "--out"
        case .earlyStopFraction: "--stop-below"
        }
    }

    static func text(_ message: SettingMessage) -> String { message.text(naming: flag) }

    /// The error as this CLI shows it: an Engine error that names settings, with their flags;
    /// any other error unchanged.
    static func shown(_ error: any Error) -> any Error {
        guard let e = error as? any SettingError else { return error }
        return CLIError(text(e.message))
    }
}
