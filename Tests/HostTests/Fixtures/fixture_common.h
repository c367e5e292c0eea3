/* Shared by the broken-plugin fixtures: a correct mean pooling and a stateless create/destroy,
   so each fixture differs from a working plugin only by the one defect it exists to show. */
#include <math.h>
#include <string.h>

#include "workbench_plugin.h"

static inline wb_status fixture_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                                const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)host; (void)n; (void)keys; (void)values;
    *out = NULL;
    return WB_OK;
}

static inline void fixture_destroy(wb_instance* instance) { (void)instance; }

static inline float fixture_count(const wb_pooling_batch* b, uint32_t row) {
    float n = 0;
    for (uint32_t t = 0; t < b->tokens; t++) n += b->mask[row * b->tokens + t];
    return n;
}

static inline wb_status mean_forward(wb_instance* instance, const wb_pooling_batch* b, float* out) {
    (void)instance;
    for (uint32_t r = 0; r < b->batch; r++) {
        float n = fixture_count(b, r);
        for (uint32_t d = 0; d < b->dim; d++) {
            float s = 0;
            for (uint32_t t = 0; t < b->tokens; t++)
                if (b->mask[r * b->tokens + t]) s += b->token_embeddings[(r * b->tokens + t) * b->dim + d];
            out[r * b->dim + d] = n > 0 ? s / n : 0;
        }
    }
    return WB_OK;
}

static inline wb_status mean_backward(wb_instance* instance, const wb_pooling_batch* b, const float* g,
                               float* grad_tokens, float* grad_values) {
    (void)instance;
    for (uint32_t r = 0; r < b->batch; r++) {
        float n = fixture_count(b, r);
        for (uint32_t t = 0; t < b->tokens; t++) {
            int on = b->mask[r * b->tokens + t] && n > 0;
            if (grad_values) grad_values[r * b->tokens + t] = 0;
            for (uint32_t d = 0; grad_tokens && d < b->dim; d++)
                grad_tokens[(r * b->tokens + t) * b->dim + d] = on ? g[r * b->dim + d] / n : 0;
        }
    }
    return WB_OK;
}
