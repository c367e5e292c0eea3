/// The last thing a training run does: score its final model on the held-out questions and
/// keep every answer in `eval-final.jsonl`, so runs of a comparison can be paired question by
/// question. The final checkpoint is scored, never the best one: choosing among checkpoints by
/// test accuracy would overstate what the run achieved.
public enum FinalEvaluation {
    /// How many questions to score: `requested` (nil: all of them), at most the set.
    public static func count(_ requested: Int?, of available: Int) -> Int {
        min(available, requested ?? available)
    }

    /// Scores the first `count` of `examples`, or takes `previous` when it already scored exactly
    /// those (the run's last periodic evaluation, at the same step); writes the records into
    /// `outputDir` and a `final_eval` metrics line. `position` names the step or update.
    public static func run(evaluator: Evaluator, model: Transformer, examples: [MathExample], count: Int,
                           reusing previous: Evaluator.Result?, outputDir: String?, metrics: MetricsWriter?,
                           position: (unit: EvalLine.Unit, index: Int)) throws -> Evaluator.Result? {
        guard count > 0 else { return nil }
        let scored = Array(examples.prefix(count))
        let result: Evaluator.Result
        if let previous, previous.samples.map(\.id) == scored.map(\.id) {
            result = previous
        } else {
            result = evaluator.evaluate(model: model, examples: scored)
        }
        if let dir = outputDir {
            try EvalRecords.write(result.samples.map(EvalRecord.init), to: dir + "/" + EvalRecords.finalFileName)
        }
        metrics?.write(.finalEval(EvalLine(unit: position.unit, index: position.index, accuracy: result.accuracy,
                                           correct: result.correct, total: result.total)))
        return result
    }
}
