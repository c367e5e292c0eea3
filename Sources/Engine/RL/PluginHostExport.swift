// The host side of the plugin ABI (loading, instances, calls) is its own module so the ABI
// layer does not depend on the Engine's tensors; the Engine calls plugins through it, and its
// users see it as part of the Engine.
@_exported import PluginHost
