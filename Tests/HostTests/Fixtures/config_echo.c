/* A reward whose create refuses and says, between brackets, the exact string value of its one key:
   a test of config quoting sees what the host passed. */
#include <stdio.h>

#include "fixture_common.h"

static wb_status echo_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                             const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)keys; (void)out;
    char message[512];
    snprintf(message, sizeof message, "prefix is [%s]", n > 0 ? values[0] : "(none)");
    host->error(host, message);
    return WB_ERROR_CONFIG;
}

static wb_status score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    (void)instance;
    for (uint32_t i = 0; i < batch->count; i++) out[i] = 0;
    return WB_OK;
}

static const wb_config_key prefix_key = {sizeof(wb_config_key), WB_CONFIG_STRING, "prefix", "none",
                                         "any text; create echoes it", NULL};
static const wb_config_key* const keys[] = {&prefix_key};
static const wb_reward_functions functions = {sizeof(wb_reward_functions), score};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.config-echo", "0.1",
    "create echoes its config", 1, 0, keys, echo_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
