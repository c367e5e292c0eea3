/// The text of include/workbench_plugin.h as this binary was built against it. SwiftPM compiles
/// the file in (`embedInCode`, through the symlink beside this file), so a plugin folder that
/// `workbench plugin new` writes gets the very header of the host that wrote it, and an edit of
/// the header rebuilds this module: the copy cannot drift from include/.
public enum PluginHeaderText {
    public static var bytes: [UInt8] { PackageResources.workbench_plugin_h }
}
