/* A plugin built for a future ABI 2: its entry symbol carries the other major. */
#include "workbench_plugin.h"

WB_EXPORT const void* workbench_plugin_entry_v2(const void* info) {
    (void)info;
    return 0;
}
