/* workbench plugin ABI (placeholder; the full header lands with issue 4). */
#ifndef WORKBENCH_PLUGIN_H
#define WORKBENCH_PLUGIN_H
#include <stdint.h>
#include <stddef.h>
#define WB_ABI_MAJOR 1
#define WB_ABI_MINOR 0
#endif
