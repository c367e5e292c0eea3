/* Numerically broken plugins: a reward that returns NaN for its third rollout, a mean pooling
   whose backward writes NaN into grad_values[17], and one whose gradient is twice too large. */
#include "fixture_common.h"

/* The instance is just the host, so score can log through it. */
static wb_status host_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                             const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)n; (void)keys; (void)values;
    *out = (wb_instance*)(void*)host;
    return WB_OK;
}

static wb_status nan_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    const wb_host* host = (const wb_host*)instance;
    host->log(host, WB_LOG_INFO, "scoring with a NaN in row 2");
    for (uint32_t i = 0; i < batch->count; i++) out[i] = i == 2 ? NAN : 1.0f;
    return WB_OK;
}

static wb_status nan_backward(wb_instance* instance, const wb_pooling_batch* b, const float* g,
                              float* grad_tokens, float* grad_values) {
    mean_backward(instance, b, g, grad_tokens, grad_values);
    if (grad_values && b->batch * b->tokens > 17) grad_values[17] = NAN;
    return WB_OK;
}

static wb_status double_backward(wb_instance* instance, const wb_pooling_batch* b, const float* g,
                                 float* grad_tokens, float* grad_values) {
    mean_backward(instance, b, g, grad_tokens, grad_values);
    for (uint32_t i = 0; grad_tokens && i < b->batch * b->tokens * b->dim; i++) grad_tokens[i] *= 2;
    return WB_OK;
}

static const wb_reward_functions reward_functions = {sizeof(wb_reward_functions), nan_score};
static const wb_pooling_functions nan_functions = {sizeof(wb_pooling_functions), 0, mean_forward, nan_backward};
static const wb_pooling_functions double_functions = {sizeof(wb_pooling_functions), 0, mean_forward, double_backward};
static const wb_plugin_descriptor reward = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD, "org.fixture.reward.nan", "0.1",
    "NaN for the third rollout", 0, 0, NULL, host_create, fixture_destroy, &reward_functions, NULL};
static const wb_plugin_descriptor nan_pooling = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_POOLING, "org.fixture.pooling.nan-grad", "0.1",
    "NaN in grad_values[17]", 0, 0, NULL, fixture_create, fixture_destroy, &nan_functions, NULL};
static const wb_plugin_descriptor double_pooling = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_POOLING, "org.fixture.pooling.double-grad", "0.1",
    "gradient twice too large", 0, 0, NULL, fixture_create, fixture_destroy, &double_functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&reward, &nan_pooling, &double_pooling};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 3, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
