/* A working reward (0 for everything) whose id takes the org.workbench. prefix the built-ins
   use: loading it must warn. */
#include "fixture_common.h"

static wb_status zero_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance;
    for (uint32_t i = 0; i < batch->count; i++) out[i] = 0;
    return WB_OK;
}

static const wb_reward_functions functions = {sizeof(wb_reward_functions), zero_score};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.workbench.reward.lookalike", "0.1",
    "a library plugin in the built-ins' id space", 0, 0, NULL, fixture_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
