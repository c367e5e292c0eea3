/* A valid ABI 1.0 reward plugin whose score calls abort(): it loads, passes the checks made at
   load and create time, and brings its process down at the first rollout batch, as a plugin
   with a crashing bug would. The comparison tests use it to show that one variant's crash is
   reported as such while the other variants finish. */
#include <stdlib.h>

#include "fixture_common.h"

static wb_status abort_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance; (void)batch; (void)out;
    abort();
}

static const wb_reward_functions reward_functions = {sizeof(wb_reward_functions), abort_score};
static const wb_plugin_descriptor reward = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.abort", "0.1",
    "calls abort() when asked to score", 0, 0, NULL, fixture_create, fixture_destroy, &reward_functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&reward};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
