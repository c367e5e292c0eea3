/* A shared library that is not a plugin: it exports a function, but no entry symbol. */
#include "workbench_plugin.h"

WB_EXPORT int some_other_function(void) { return 42; }
