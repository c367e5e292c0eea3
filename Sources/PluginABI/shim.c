/* The PluginABI target only exposes include/workbench_plugin.h to Swift; SwiftPM needs one
   source file to build a C target. It also proves the header compiles as C11 on its own. */
#include "workbench_plugin.h"
