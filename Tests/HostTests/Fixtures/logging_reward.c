/* A reward that logs: info in create, and on every score call a warning (the same text each
   time) and a debug line. Its scores are right: 1 when the completion ends with
   "Therefore, the answer is: <gold as text>", else 0. */
#include "fixture_common.h"

static wb_status logging_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                                const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)n; (void)keys; (void)values;
    host->log(host, WB_LOG_INFO, "answer table: the built-in rules");
    *out = (wb_instance*)(void*)host;
    return WB_OK;
}

static int ends_with_answer(const char* completion, const char* gold) {
    static const char marker[] = "Therefore, the answer is: ";
    size_t c = strlen(completion), m = strlen(marker), g = strlen(gold);
    return c >= m + g && memcmp(completion + c - g - m, marker, m) == 0 && memcmp(completion + c - g, gold, g) == 0;
}

static wb_status logging_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    const wb_host* host = (const wb_host*)instance;
    host->log(host, WB_LOG_WARNING, "scoring without an answer table");
    host->log(host, WB_LOG_DEBUG, "score called");
    for (uint32_t i = 0; i < batch->count; i++) out[i] = ends_with_answer(batch->completions[i], batch->gold_answers[i]) ? 1.0f : 0.0f;
    return WB_OK;
}

static const wb_reward_functions functions = {sizeof(wb_reward_functions), logging_score};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.logging", "0.1",
    "logs in create and in every score", 0, 0, NULL, logging_create, fixture_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
