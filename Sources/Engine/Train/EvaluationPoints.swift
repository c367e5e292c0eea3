/// What both trainers do at an evaluation point, and remember between them. At each point the
/// weights are saved as a checkpoint, the held-out questions are scored and the result written
/// to the metrics, and then the resumable state is saved into the same checkpoint: after the
/// metrics line, so a resumed run does not log this evaluation twice.
final class EvaluationPoints {
    private let checkpoints: String?
    private let unit: EvalLine.Unit
    private let evaluator: Evaluator
    private let model: Transformer
    private let examples: [MathExample]
    private let metrics: MetricsWriter?
    /// SFT's evaluation lines carry the generation speed; RL's do not.
    private let logsSpeed: Bool

    /// (position, accuracy) of every evaluation so far, a resumed run's earlier ones included.
    private(set) var evaluations: [(Int, Double)] = []
    private(set) var last: Evaluator.Result?
    /// The checkpoint that holds the resumable state, and its position.
    private(set) var stateDir: String?
    private(set) var saved: Int?
    /// Where the last evaluation happened, so the end of a run does not repeat it.
    private(set) var evaluatedAt: Int?

    init(outputDir: String?, unit: EvalLine.Unit, evaluator: Evaluator, model: Transformer, examples: [MathExample],
         metrics: MetricsWriter?, logsSpeed: Bool) {
        checkpoints = outputDir.map { $0 + "/checkpoints" }
        (self.unit, self.evaluator, self.model, self.examples) = (unit, evaluator, model, examples)
        (self.metrics, self.logsSpeed) = (metrics, logsSpeed)
    }

    /// Continues from a saved state: its evaluations, and its checkpoint as the one holding the state.
    func resume(_ state: TrainingState, from dir: String) {
        evaluations = state.evaluations.map { ($0.position, $0.accuracy) }
        (stateDir, saved, evaluatedAt) = (dir, state.position, state.position)
    }

    /// The checkpoint folder of a position (update-00010, step-000100); nil without an output folder.
    func path(_ position: Int) -> String? {
        checkpoints.map { $0 + (unit == .update ? "/update-\(String(format: "%05d", position))" : "/step-\(String(format: "%06d", position))") }
    }

    /// The evaluations as a saved state records them.
    var records: [TrainingState.Evaluation] { evaluations.map { .init(position: $0.0, accuracy: $0.1) } }

    /// Says the resumable state is now in `dir`, at `position`.
    func stateSaved(in dir: String, at position: Int) { (stateDir, saved) = (dir, position) }

    /// Saves the weights, scores the held-out questions (when there are any) and saves the
    /// resumable state; returns the score and the checkpoint for the trainer's report.
    func evaluate(at position: Int, elapsed: Double, saveWeights: (String) throws -> Void,
                  saveState: (String) throws -> Void, report: (Evaluator.Result, String?) -> Void) throws {
        let path = path(position)
        if let path { try saveWeights(path) }
        if !examples.isEmpty {
            let result = evaluator.evaluate(model: model, examples: examples)
            evaluations.append((position, result.accuracy))
            last = result
            metrics?.write(.eval(EvalLine(unit: unit, index: position, accuracy: result.accuracy, correct: result.correct,
                                          total: result.total, elapsed: elapsed, tokensPerSecond: logsSpeed ? result.tokensPerSecond : nil)))
            report(result, path)
        }
        if let path { try saveState(path) }
        evaluatedAt = position
    }

    /// On an interruption: the current position as a resumable checkpoint, unless it is one already.
    func saveForResume(at position: Int, saveWeights: (String) throws -> Void, saveState: (String) throws -> Void) throws {
        guard saved != position, let path = path(position) else { return }
        try saveWeights(path)
        try saveState(path)
    }
}
