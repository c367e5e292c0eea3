/*
 * Two example plugins in plain C, built against include/workbench_plugin.h alone:
 *
 *   org.example.reward.format-aware      1 for a correct answer, a partial reward for a readable
 *                                        but wrong one, minus a penalty for rambling completions.
 *   org.example.contrastive.triplet      a triplet-margin loss on the views CARFT's positive
 *                                        InfoNCE uses: each correct rollout's CoT embedding
 *                                        should be closer (cosine) to its own annotated CoT than
 *                                        to the other questions' annotated CoTs, by a margin.
 *
 * Build: cc -shared -fPIC -std=c11 -O2 -I ../../include -o libexample.so example.c -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workbench_plugin.h"

/* Parses a value the host has already checked against its declared type. */
static double number(const char* value) { return strtod(value, NULL); }

static const char* config_value(uint32_t n, const char* const* keys, const char* const* values, const char* key) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0) return values[i];
    return NULL;
}

/* ---- The reward ---------------------------------------------------------------------------- */

typedef struct {
    const wb_host* host;
    double partial;        /* reward for a readable but wrong answer */
    long max_chars;        /* completions longer than this are penalised */
    double length_penalty; /* subtracted when over max_chars */
    char prefix[128];      /* the answer line's prefix */
} format_reward;

static const wb_config_key key_partial = {sizeof(wb_config_key), WB_CONFIG_FLOAT, "partial", "0.1",
                                          "reward for a readable number that is wrong", NULL};
static const wb_config_key key_max_chars = {sizeof(wb_config_key), WB_CONFIG_INT, "max-chars", "400",
                                            "completions longer than this many bytes are penalised", NULL};
static const wb_config_key key_length_penalty = {sizeof(wb_config_key), WB_CONFIG_FLOAT, "length-penalty", "0.1",
                                                 "subtracted from the reward of an over-long completion", NULL};
static const wb_config_key key_prefix = {sizeof(wb_config_key), WB_CONFIG_STRING, "answer-prefix",
                                         "Therefore, the answer is:", "the text before the final answer", NULL};
static const wb_config_key* const reward_keys[] = {&key_partial, &key_max_chars, &key_length_penalty, &key_prefix};

static wb_status reward_create(const wb_plugin_descriptor* descriptor, const wb_host* host, uint32_t n,
                               const char* const* keys, const char* const* values, wb_instance** out) {
    (void)descriptor;
    format_reward* r = (format_reward*)calloc(1, sizeof *r);
    if (!r) {
        host->error(host, "out of memory");
        return WB_ERROR_OUT_OF_MEMORY;
    }
    r->host = host;
    r->partial = number(config_value(n, keys, values, "partial"));
    r->max_chars = strtol(config_value(n, keys, values, "max-chars"), NULL, 10);
    r->length_penalty = number(config_value(n, keys, values, "length-penalty"));
    const char* prefix = config_value(n, keys, values, "answer-prefix");
    if (r->max_chars < 1 || strlen(prefix) >= sizeof r->prefix) {
        host->error(host, r->max_chars < 1 ? "max-chars must be at least 1" : "answer-prefix is longer than 127 bytes");
        free(r);
        return WB_ERROR_CONFIG;
    }
    strcpy(r->prefix, prefix);
    *out = r;
    return WB_OK;
}

static void reward_destroy(wb_instance* instance) { free(instance); }

/* The number after the last answer prefix, or 0 when there is none. */
static int read_answer(const char* completion, const char* prefix, double* answer) {
    const char* found = NULL;
    for (const char* p = strstr(completion, prefix); p; p = strstr(p + 1, prefix)) found = p;
    if (!found) return 0;
    char* end;
    *answer = strtod(found + strlen(prefix), &end);
    return end != found + strlen(prefix) && isfinite(*answer);
}

static wb_status reward_score(wb_instance* instance, const wb_reward_batch* batch, float* out) {
    const format_reward* r = (const format_reward*)instance;
    uint32_t over = 0;
    for (uint32_t i = 0; i < batch->count; i++) {
        double answer, reward = 0;
        if (read_answer(batch->completions[i], r->prefix, &answer))
            reward = fabs(answer - batch->gold_values[i]) <= 1e-2 ? 1.0 : r->partial;
        if ((long)strlen(batch->completions[i]) > r->max_chars) {
            reward -= r->length_penalty;
            over++;
        }
        out[i] = (float)reward;
    }
    if (batch->count > 0) r->host->metric(r->host, "format/over_length", (double)over / batch->count);
    return WB_OK;
}

static const wb_reward_functions reward_functions = {sizeof(wb_reward_functions), reward_score};

static const wb_plugin_descriptor reward_descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_REWARD,
    "org.example.reward.format-aware", "1.0.0",
    "1 if correct, a partial reward for a wrong but readable number, minus a penalty when over-long",
    4, 0, reward_keys, reward_create, reward_destroy, &reward_functions, NULL};

/* ---- The triplet-margin contrastive loss ---------------------------------------------------- */

enum { ANNOTATED_VIEW = 0, ROLLOUT_VIEW = 1 };

typedef struct {
    const wb_host* host;
    double margin;     /* required gap between cos(anchor, positive) and cos(anchor, negative) */
    double min_reward; /* rows whose reward reaches this take part (correct answers) */
} triplet;

static const wb_config_key key_margin = {sizeof(wb_config_key), WB_CONFIG_FLOAT, "margin", "0.2",
                                         "cosine margin between the positive and each negative", NULL};
static const wb_config_key key_min_reward = {sizeof(wb_config_key), WB_CONFIG_FLOAT, "min-reward", "1",
                                             "rows with at least this reward take part", NULL};
static const wb_config_key* const triplet_keys[] = {&key_margin, &key_min_reward};

static wb_status triplet_create(const wb_plugin_descriptor* descriptor, const wb_host* host, uint32_t n,
                                const char* const* keys, const char* const* values, wb_instance** out) {
    (void)descriptor;
    triplet* t = (triplet*)calloc(1, sizeof *t);
    if (!t) {
        host->error(host, "out of memory");
        return WB_ERROR_OUT_OF_MEMORY;
    }
    t->host = host;
    t->margin = number(config_value(n, keys, values, "margin"));
    t->min_reward = number(config_value(n, keys, values, "min-reward"));
    if (t->margin < 0 || t->margin > 2) {
        host->error(host, "margin must be between 0 and 2 (cosines differ by at most 2)");
        free(t);
        return WB_ERROR_CONFIG;
    }
    *out = t;
    return WB_OK;
}

static void triplet_destroy(wb_instance* instance) { free(instance); }

static uint32_t triplet_view_count(const wb_instance* instance) {
    (void)instance;
    return 2;
}

static uint32_t triplet_view_source(const wb_instance* instance, uint32_t view) {
    (void)instance;
    return view == ANNOTATED_VIEW ? WB_VIEW_ANNOTATED : WB_VIEW_ROLLOUT;
}

/* The views are the CoT tokens of each sequence, as in CARFT. */
static wb_status triplet_select(wb_instance* instance, const wb_token_views_batch* batch, uint8_t* const* out_masks) {
    (void)instance;
    memcpy(out_masks[ANNOTATED_VIEW], batch->annotated_cot, (size_t)batch->batch * batch->annotated_tokens);
    memcpy(out_masks[ROLLOUT_VIEW], batch->rollout_cot, (size_t)batch->batch * batch->rollout_tokens);
    return WB_OK;
}

static double dot(const float* x, const float* y, uint32_t n) {
    double s = 0;
    for (uint32_t d = 0; d < n; d++) s += (double)x[d] * y[d];
    return s;
}

/* cos(x, y); when dx/dy are non-NULL, adds scale × dcos/dx and scale × dcos/dy into them. */
static double cosine(const float* x, const float* y, uint32_t n, double scale, float* dx, float* dy) {
    double nx = sqrt(dot(x, x, n)), ny = sqrt(dot(y, y, n));
    if (nx < 1e-12 || ny < 1e-12) return 0; /* an empty view pools to zero: no direction, no gradient */
    double c = dot(x, y, n) / (nx * ny);
    for (uint32_t d = 0; d < n; d++) {
        if (dx) dx[d] += (float)(scale * (y[d] / (nx * ny) - c * x[d] / (nx * nx)));
        if (dy) dy[d] += (float)(scale * (x[d] / (nx * ny) - c * y[d] / (ny * ny)));
    }
    return c;
}

static int takes_part(const triplet* t, const wb_contrastive_batch* b, uint32_t i) {
    return b->valid[i] && b->rewards[i] >= t->min_reward;
}

/* Loss = mean over pairs (i, j≠i) of rows taking part of max(0, margin − cos(a_i, p_i) + cos(a_i, p_j)),
   a = rollout CoT (anchor), p = annotated CoT. When `grads` is non-NULL, also writes the gradient
   scaled by grad_loss. */
static wb_status triplet_run(triplet* t, const wb_contrastive_batch* b, double* out_loss, float grad_loss, float* const* grads) {
    if (b->view_count != 2) {
        t->host->error(t->host, "expects 2 views (annotated CoT, rollout CoT)");
        return WB_ERROR_INVALID_ARGUMENT;
    }
    const uint32_t n = b->batch, dim = b->dim;
    for (int v = 0; grads && v < 2; v++)
        if (grads[v]) memset(grads[v], 0, sizeof(float) * n * dim);
    uint32_t rows = 0;
    for (uint32_t i = 0; i < n; i++) rows += takes_part(t, b, i);
    double loss = 0;
    if (rows >= 2) {
        const double pairs = (double)rows * (rows - 1);
        const float *a = b->views[ROLLOUT_VIEW], *p = b->views[ANNOTATED_VIEW];
        float* ga = grads ? grads[ROLLOUT_VIEW] : NULL;
        float* gp = grads ? grads[ANNOTATED_VIEW] : NULL;
        for (uint32_t i = 0; i < n; i++) {
            if (!takes_part(t, b, i)) continue;
            double positive = cosine(a + i * dim, p + i * dim, dim, 0, NULL, NULL);
            for (uint32_t j = 0; j < n; j++) {
                if (j == i || !takes_part(t, b, j)) continue;
                double hinge = t->margin - positive + cosine(a + i * dim, p + j * dim, dim, 0, NULL, NULL);
                if (hinge <= 0) continue;
                loss += hinge / pairs;
                if (grads) {
                    double s = grad_loss / pairs;
                    cosine(a + i * dim, p + i * dim, dim, -s, ga ? ga + i * dim : NULL, gp ? gp + i * dim : NULL);
                    cosine(a + i * dim, p + j * dim, dim, s, ga ? ga + i * dim : NULL, gp ? gp + j * dim : NULL);
                }
            }
        }
    }
    if (out_loss) *out_loss = loss;
    t->host->metric(t->host, "triplet/rows", rows);
    return WB_OK;
}

static wb_status triplet_forward(wb_instance* instance, const wb_contrastive_batch* batch, double* out_loss) {
    return triplet_run((triplet*)instance, batch, out_loss, 0, NULL);
}

static wb_status triplet_backward(wb_instance* instance, const wb_contrastive_batch* batch, float grad_loss,
                                  float* const* grad_views) {
    return triplet_run((triplet*)instance, batch, NULL, grad_loss, grad_views);
}

static const wb_contrastive_functions triplet_functions = {
    sizeof(wb_contrastive_functions), 0, triplet_view_count, triplet_view_source,
    triplet_select, triplet_forward, triplet_backward};

static const wb_plugin_descriptor triplet_descriptor = {
    sizeof(wb_plugin_descriptor), WB_ABI_MAJOR, WB_ABI_MINOR, WB_KIND_CONTRASTIVE,
    "org.example.contrastive.triplet", "1.0.0",
    "triplet margin on cosine: a correct rollout's CoT nearer its own annotated CoT than the batch's others",
    2, 0, triplet_keys, triplet_create, triplet_destroy, &triplet_functions, NULL};

/* ---- The library ----------------------------------------------------------------------------- */

static const wb_plugin_descriptor* const plugins[] = {&reward_descriptor, &triplet_descriptor};
static const wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, WB_ABI_MINOR, 2, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    if (info->abi_major != WB_ABI_MAJOR) {
        info->error(info, "this library speaks plugin ABI 1");
        return NULL;
    }
    return &library;
}
