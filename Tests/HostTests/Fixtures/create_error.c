/* A reward whose create fails and says why through the host's error sink. */
#include "fixture_common.h"

static wb_status failing_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                                const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)n; (void)keys; (void)values; (void)out;
    host->error(host, "cannot open the answer table /nowhere/answers.tsv");
    return WB_ERROR_CONFIG;
}

static wb_status score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance;
    for (uint32_t i = 0; i < batch->count; i++) out[i] = 0;
    return WB_OK;
}

static const wb_reward_functions functions = {sizeof(wb_reward_functions), score};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.create-error", "0.1",
    "create always fails", 0, 0, NULL, failing_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
