/* A valid ABI 1.0 reward plugin whose score writes through a NULL pointer: it loads, passes the
   load and create checks, and brings its process down with SIGSEGV at the first rollout batch.
   The crash tests use it: the last line printed must name the plugin and the function. */
#include "fixture_common.h"

static wb_status segv_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance; (void)out;
    volatile float* nowhere = (volatile float*)0;
    *nowhere = (float)batch->count;
    return WB_OK;
}

static const wb_reward_functions reward_functions = {sizeof(wb_reward_functions), segv_score};
static const wb_plugin_descriptor reward = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.segv", "0.1",
    "writes through a NULL pointer when asked to score", 0, 0, NULL, fixture_create, fixture_destroy, &reward_functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&reward};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
