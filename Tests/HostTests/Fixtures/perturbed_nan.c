/* A contrastive loss with a correct backward whose forward breaks on any input but the first it
   saw (a stale cache gone wrong): loss = sum over valid rows of dot(view 0, view 1), NaN once the
   views differ from the first forward's. The checker's finite differences then fail, as they
   should; every check after them must still see the original inputs and pass. */
#include <stdlib.h>

#include "fixture_common.h"

typedef struct {
    int seen;
    double checksum;
} first_batch;

static wb_status cache_create(const wb_plugin_descriptor* d, const wb_host* host, uint32_t n,
                              const char* const* keys, const char* const* values, wb_instance** out) {
    (void)d; (void)n; (void)keys; (void)values;
    first_batch* f = calloc(1, sizeof *f);
    if (!f) {
        host->error(host, "out of memory");
        return WB_ERROR_OUT_OF_MEMORY;
    }
    *out = f;
    return WB_OK;
}

static void cache_destroy(wb_instance* instance) { free(instance); }

static uint32_t view_count(const wb_instance* instance) { (void)instance; return 2; }

static uint32_t view_source(const wb_instance* instance, uint32_t view) {
    (void)instance;
    return view == 0 ? WB_VIEW_ROLLOUT : WB_VIEW_ANNOTATED;
}

static wb_status select_present(wb_instance* instance, const wb_token_views_batch* b, uint8_t* const* masks) {
    (void)instance;
    memcpy(masks[0], b->rollout_present, (size_t)b->batch * b->rollout_tokens);
    memcpy(masks[1], b->annotated_present, (size_t)b->batch * b->annotated_tokens);
    return WB_OK;
}

/* Position-weighted, so a change to any single entry changes it. */
static double checksum(const wb_contrastive_batch* b) {
    double s = 0;
    for (uint32_t v = 0; v < 2; v++)
        for (uint32_t i = 0; i < b->batch * b->dim; i++) s += (double)b->views[v][i] * (1 + i + v * 1000);
    return s;
}

static wb_status dot_forward(wb_instance* instance, const wb_contrastive_batch* b, double* out) {
    first_batch* f = instance;
    double s = checksum(b);
    if (!f->seen) {
        f->seen = 1;
        f->checksum = s;
    }
    if (s != f->checksum) {
        *out = NAN;
        return WB_OK;
    }
    double loss = 0;
    for (uint32_t r = 0; r < b->batch; r++)
        for (uint32_t d = 0; b->valid[r] && d < b->dim; d++) loss += (double)b->views[0][r * b->dim + d] * b->views[1][r * b->dim + d];
    *out = loss;
    return WB_OK;
}

static wb_status dot_backward(wb_instance* instance, const wb_contrastive_batch* b, float g, float* const* grads) {
    (void)instance;
    for (uint32_t v = 0; v < 2; v++) {
        if (!grads[v]) continue;
        const float* other = b->views[1 - v];
        for (uint32_t r = 0; r < b->batch; r++)
            for (uint32_t d = 0; d < b->dim; d++) grads[v][r * b->dim + d] = b->valid[r] ? g * other[r * b->dim + d] : 0;
    }
    return WB_OK;
}

static const wb_contrastive_functions functions = {
    sizeof(wb_contrastive_functions), 0, view_count, view_source, select_present, dot_forward, dot_backward};
static const wb_plugin_descriptor descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_CONTRASTIVE, "org.fixture.contrastive.perturbed-nan", "0.1",
    "dot product whose forward is NaN for any batch but the first", 0, 0, NULL, cache_create, cache_destroy, &functions, NULL};
static const wb_plugin_descriptor* const plugins[] = {&descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    return &library;
}
