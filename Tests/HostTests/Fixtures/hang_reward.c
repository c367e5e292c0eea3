/* A valid ABI 1.0 reward plugin whose score never returns (with `hang=create`, create never
   returns instead): it loads and passes the checks made at load time, then blocks its caller for
   good, as a plugin with a deadlock or an endless loop would. The watchdog tests use it: the run
   must stop after --plugin-timeout, naming the plugin and the function. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "fixture_common.h"

static void hang(void) {
    for (;;) sleep(1000);
}

static wb_status hang_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                             const char* const* keys, const char* const* values, wb_instance** out) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(keys[i], "hang") == 0 && strcmp(values[i], "create") == 0) hang();
    return fixture_create(d, host, n, keys, values, out);
}

static wb_status hang_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance; (void)batch; (void)out;
    hang();
    return WB_OK;
}

static const wb_config_key hang_key = {sizeof(wb_config_key), WB_CONFIG_STRING, "hang", "score",
                                       "the function that never returns", "score|create"};
static const wb_config_key* const keys[] = {&hang_key};
static const wb_reward_functions reward_functions = {sizeof(wb_reward_functions), hang_score};
static const wb_plugin_descriptor reward = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.hang", "0.1",
    "never returns from score (or from create)", 1, 0, keys, hang_create, fixture_destroy, &reward_functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&reward};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
