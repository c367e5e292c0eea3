/* A descriptor whose id is not reverse-DNS. */
#include "fixture_common.h"

static const wb_pooling_functions functions = {sizeof(wb_pooling_functions), 0, mean_forward, mean_backward};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_POOLING, "my pooling", "0.1",
    "a bad id", 0, 0, NULL, fixture_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
