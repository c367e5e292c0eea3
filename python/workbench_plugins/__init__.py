"""workbench plugins outside workbench: load any plugin library built against
include/workbench_plugin.h (C or Swift, the built-ins' libworkbench_builtins.so included) with
ctypes, and use it from numpy, PyTorch (workbench_plugins.autograd) or TRL
(workbench_plugins.trl.WorkbenchReward)."""
from .instances import Contrastive, Pooling, Reward
from .library import ConfigKey, Descriptor, PluginError, PluginLibrary

__all__ = ["PluginLibrary", "Descriptor", "ConfigKey", "PluginError", "Reward", "Pooling", "Contrastive",
           "WorkbenchReward"]


def __getattr__(name):
    # TRL's adapter is plain Python, but keep the import light and lazy like the torch one.
    if name == "WorkbenchReward":
        from .trl import WorkbenchReward
        return WorkbenchReward
    raise AttributeError(name)
