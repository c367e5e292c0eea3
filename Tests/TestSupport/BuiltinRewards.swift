import BuiltinPlugins
import Engine

/// The stock rewards, reached through their descriptors as a run reaches them: tests score with
/// the one definition of each reward, not a copy of it.
public enum BuiltinRewards {
    public static let library = try! PluginLibrary(table: BuiltinPlugins.library, name: "builtin")

    /// ReFT's reward: 1 right, 0.1 for a wrong number, 0 without an answer line.
    public static func reftPartial() -> PluginReward {
        try! PluginReward(library.plugin("org.workbench.reward.reft-partial"))
    }
}
