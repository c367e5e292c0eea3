/* A reward whose score is the completion's length in bytes, to see exactly what the host hands
   a plugin for a completion. */
#include "fixture_common.h"

static wb_status length_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance;
    for (uint32_t i = 0; i < batch->count; i++) out[i] = (float)strlen(batch->completions[i]);
    return WB_OK;
}

static const wb_reward_functions functions = {sizeof(wb_reward_functions), length_score};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.byte-length", "0.1",
    "the completion's length in bytes", 0, 0, NULL, fixture_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
