import PluginHeaderText

/// The C plugin folder `plugin new --lang c` writes: one source file, the header under include/
/// (so the build line is the header's own, `-I include`), a Makefile, a README and a .gitignore.
/// Each kind's source is complete and deliberately plain: a starting point that already passes
/// `workbench plugin check`.
struct CPluginTemplate {
    let scaffold: PluginScaffold
    init(_ scaffold: PluginScaffold) { self.scaffold = scaffold }

    var name: String { scaffold.name.text }

    var files: [PluginScaffold.File] {
        [
            .init("\(name).c", source),
            .init("include/workbench_plugin.h", bytes: PluginHeaderText.bytes),
            .init("Makefile", makefile),
            .init(".gitignore", "lib\(name).so\n"),
            .init("README.md", PluginReadmeTemplate(scaffold).text),
        ]
    }

    var makefile: String {
        #"""
        # Builds lib\#(name).so against the copy of workbench_plugin.h in include/; nothing else is needed.
        # -lm links the C math library (sqrt, fabs, expf, ...).
        CC ?= cc
        CFLAGS ?= -O2 -Wall -Wextra -Wpedantic

        lib\#(name).so: \#(name).c include/workbench_plugin.h
        \#t$(CC) -shared -fPIC -std=c11 $(CFLAGS) -I include -o $@ \#(name).c -lm

        clean:
        \#trm -f lib\#(name).so

        .PHONY: clean

        """#
    }

    var source: String {
        switch scaffold.kind {
        case .reward: return reward
        case .pooling: return pooling
        case .contrastive: return contrastive
        }
    }

    /// The descriptor table and the entry every kind ends with.
    func entry(kind: String, summary: String, functions: String) -> String {
        #"""
        /* ---- Descriptor and entry ---------------------------------------------------------------------- */

        static const wb_plugin_descriptor descriptor = {
            .struct_size = sizeof(wb_plugin_descriptor),
            .abi_major = WB_ABI_MAJOR,
            .abi_minor = WB_ABI_MINOR,
            .kind = \#(kind),
            .id = "\#(scaffold.id)",
            .version = "0.1.0",
            .summary = "\#(summary)",
            .config_key_count = sizeof config_keys / sizeof config_keys[0],
            .reserved = 0,
            .config_keys = config_keys,
            .create = create,
            .destroy = destroy,
            .functions = &\#(functions),
            .get_extension = NULL,
        };

        static const wb_plugin_descriptor* const plugins[] = {&descriptor};

        static const wb_library library = {
            .struct_size = sizeof(wb_library),
            .abi_major = WB_ABI_MAJOR,
            .abi_minor = WB_ABI_MINOR,
            .plugin_count = sizeof plugins / sizeof plugins[0],
            .plugins = plugins,
        };

        /* Everything above is static data, so the library works with any 1.x host as it is; the host
           refuses other major versions itself. */
        WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
            (void)info;
            return &library;
        }

        """#
    }

    /// The start of every kind's source: what the file is and how to build and check it.
    func prologue(_ what: String) -> String {
        #"""
        /*
         * \#(name): a workbench \#(scaffold.kind.rawValue) plugin, \#(scaffold.id), written by
         * `workbench plugin new`.
         *
        \#(what.split(separator: "\n", omittingEmptySubsequences: false).map { " * \($0)" }.joined(separator: "\n"))
         *
         * Build: make        Check: workbench plugin check ./lib\#(name).so        (README.md)
         * The contract, every pointer's owner and every function's thread: include/workbench_plugin.h.
         */
        #include <math.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        #include "workbench_plugin.h"

        """#
    }

    // MARK: reward

    var reward: String {
        prologue("""
        Scores each completion as the built-in ReFT reward does: 1 when the number on its answer
        line is within `tolerance` of the gold answer, `partial` for any other number, 0 without
        an answer line (the header's READING THE ANSWER). Change score() to try your own rule, and
        keep wrong answers below 1 (THE REWARD SCALE).
        """) + #"""

        /* ---- Config ------------------------------------------------------------------------------------ */

        static const wb_config_key partial_key = {
            .struct_size = sizeof(wb_config_key),
            .type = WB_CONFIG_FLOAT,
            .name = "partial",
            .default_value = "0.1",
            .help = "reward for a readable but wrong number (0 <= partial < 1: a reward >= 1 means correct)",
            .choices = NULL,
        };

        static const wb_config_key tolerance_key = {
            .struct_size = sizeof(wb_config_key),
            .type = WB_CONFIG_FLOAT,
            .name = "tolerance",
            .default_value = "0.01",
            .help = "largest |answer - gold| counted correct (the host's evaluation uses 0.01)",
            .choices = NULL,
        };

        static const wb_config_key* const config_keys[] = {&partial_key, &tolerance_key};

        /* ---- Instance ---------------------------------------------------------------------------------- */

        typedef struct {
            const wb_host* host; /* for metrics; lives until destroy */
            float partial;
            double tolerance;
        } reward;

        static wb_status create(const wb_plugin_descriptor* descriptor, const wb_host* host, uint32_t count,
                                const char* const* keys, const char* const* values, wb_instance** out_instance) {
            (void)descriptor;
            /* The host passes every declared key, defaults filled in, each value already checked as a
               FLOAT; what is left to check is the range. */
            double partial = 0.1, tolerance = 0.01;
            for (uint32_t i = 0; i < count; i++) {
                if (strcmp(keys[i], "partial") == 0) partial = strtod(values[i], NULL);
                if (strcmp(keys[i], "tolerance") == 0) tolerance = strtod(values[i], NULL);
            }
            char message[200];
            if (!(partial >= 0 && partial < 1)) {
                snprintf(message, sizeof message, "partial is %g; it must be >= 0 and < 1, since a reward >= 1 means correct", partial);
                host->error(host, message);
                return WB_ERROR_CONFIG;
            }
            if (!(tolerance >= 0)) {
                snprintf(message, sizeof message, "tolerance is %g; it must be >= 0", tolerance);
                host->error(host, message);
                return WB_ERROR_CONFIG;
            }
            reward* self = malloc(sizeof *self);
            if (self == NULL) {
                host->error(host, "out of memory");
                return WB_ERROR_OUT_OF_MEMORY;
            }
            self->host = host;
            self->partial = (float)partial;
            self->tolerance = tolerance;
            *out_instance = self;
            return WB_OK;
        }

        static void destroy(wb_instance* instance) { free(instance); }

        /* ---- Reading the answer (the header's READING THE ANSWER) -------------------------------------- */

        static const char marker[] = "Therefore, the answer is: ";

        /* The text after the last "\nTherefore, the answer is: ", or after the marker at the very
           start; NULL when the completion has neither. */
        static const char* answer_line(const char* completion) {
            const size_t n = sizeof marker - 1;
            const char* line = strncmp(completion, marker, n) == 0 ? completion + n : NULL;
            for (const char* p = strchr(completion, '\n'); p != NULL; p = strchr(p + 1, '\n'))
                if (strncmp(p + 1, marker, n) == 0) line = p + 1 + n;
            return line;
        }

        static int is_digit(char c) { return c >= '0' && c <= '9'; }

        /* The first number on the line starting at `s` into *out; 0 when the line has none. The value
           is accumulated in a double: at worst a few ulps from strtod, far inside the 1e-2 tolerance,
           and it needs no buffer and no locale. */
        static int first_number(const char* s, double* out) {
            for (size_t i = 0; s[i] != '\0' && s[i] != '\n'; i++) {
                size_t j = i;
                double sign = 1;
                if ((s[i] == '-' || s[i] == '+') && (is_digit(s[i + 1]) || (s[i + 1] == '.' && is_digit(s[i + 2])))) {
                    sign = s[i] == '-' ? -1 : 1;
                    j++;
                }
                double value = 0;
                size_t digits = 0, fraction = 0;
                for (; is_digit(s[j]); j++, digits++) value = value * 10 + (s[j] - '0');
                /* Thousands groups: after one to three digits, ",ddd" not followed by a fourth digit. */
                if (digits >= 1 && digits <= 3)
                    while (s[j] == ',' && is_digit(s[j + 1]) && is_digit(s[j + 2]) && is_digit(s[j + 3]) && !is_digit(s[j + 4])) {
                        value = value * 1000 + (s[j + 1] - '0') * 100 + (s[j + 2] - '0') * 10 + (s[j + 3] - '0');
                        j += 4;
                    }
                if (s[j] == '.' && is_digit(s[j + 1])) {
                    double scale = 0.1;
                    for (j++; is_digit(s[j]); j++, fraction++, scale /= 10) value += (s[j] - '0') * scale;
                }
                if (digits > 0 || fraction > 0) {
                    *out = sign * value;
                    return 1;
                }
            }
            return 0;
        }

        /* ---- Score ------------------------------------------------------------------------------------- */

        static wb_status score(wb_instance* instance, const wb_reward_batch* batch, float* out_rewards) {
            const reward* self = instance;
            uint32_t answered = 0;
            for (uint32_t i = 0; i < batch->count; i++) {
                const char* line = answer_line(batch->completions[i]);
                double answer = 0;
                if (line != NULL && first_number(line, &answer)) {
                    answered++;
                    out_rewards[i] = fabs(answer - batch->gold_values[i]) <= self->tolerance ? 1.0f : self->partial;
                } else {
                    out_rewards[i] = 0.0f;
                }
            }
            /* In `workbench rl`'s metrics.jsonl as plugin/\#(name)/answered. */
            self->host->metric(self->host, "\#(name)/answered", (double)answered / batch->count);
            return WB_OK;
        }

        static const wb_reward_functions functions = {
            .struct_size = sizeof(wb_reward_functions),
            .score = score,
        };


        """# + entry(kind: "WB_KIND_REWARD",
                    summary: "1 for a correct answer (within tolerance), partial for another number, 0 without an answer line",
                    functions: "functions")
    }

    // MARK: pooling

    var pooling: String {
        prologue("""
        Pools each sequence's masked token embeddings into one embedding: their mean (or, with
        reduction=sum, their sum). It does not read the value head's outputs, so its gradient
        with respect to them is zero. Change forward() and backward() together: backward must
        stay the exact gradient of forward, which `plugin check` compares with finite differences.
        """) + #"""

        /* ---- Config ------------------------------------------------------------------------------------ */

        static const wb_config_key reduction_key = {
            .struct_size = sizeof(wb_config_key),
            .type = WB_CONFIG_STRING,
            .name = "reduction",
            .default_value = "mean",
            .help = "mean of the pooled tokens' embeddings, or their sum",
            .choices = "mean|sum",
        };

        static const wb_config_key* const config_keys[] = {&reduction_key};

        /* ---- Instance ---------------------------------------------------------------------------------- */

        typedef struct {
            int sum; /* reduction=sum */
        } pooling;

        static wb_status create(const wb_plugin_descriptor* descriptor, const wb_host* host, uint32_t count,
                                const char* const* keys, const char* const* values, wb_instance** out_instance) {
            (void)descriptor;
            pooling* self = malloc(sizeof *self);
            if (self == NULL) {
                host->error(host, "out of memory");
                return WB_ERROR_OUT_OF_MEMORY;
            }
            /* The host has already restricted reduction to its choices. */
            self->sum = 0;
            for (uint32_t i = 0; i < count; i++)
                if (strcmp(keys[i], "reduction") == 0) self->sum = strcmp(values[i], "sum") == 0;
            *out_instance = self;
            return WB_OK;
        }

        static void destroy(wb_instance* instance) { free(instance); }

        /* ---- Forward and backward ---------------------------------------------------------------------- */

        /* The factor every pooled token of row r gets: 1/n for the mean of n tokens, 1 for the sum, and 0
           for a row that pools nothing (it gets a zero embedding and zero gradient). */
        static float weight(const pooling* self, const wb_pooling_batch* b, uint32_t r) {
            uint32_t n = 0;
            for (uint32_t t = 0; t < b->tokens; t++) n += b->mask[(size_t)r * b->tokens + t] != 0;
            if (n == 0) return 0.0f;
            return self->sum ? 1.0f : 1.0f / (float)n;
        }

        static wb_status forward(wb_instance* instance, const wb_pooling_batch* b, float* out) {
            const pooling* self = instance;
            for (uint32_t r = 0; r < b->batch; r++) {
                float w = weight(self, b, r);
                float* row = out + (size_t)r * b->dim;
                for (uint32_t d = 0; d < b->dim; d++) row[d] = 0.0f;
                for (uint32_t t = 0; t < b->tokens; t++) {
                    if (!b->mask[(size_t)r * b->tokens + t]) continue;
                    const float* x = b->token_embeddings + ((size_t)r * b->tokens + t) * b->dim;
                    for (uint32_t d = 0; d < b->dim; d++) row[d] += x[d];
                }
                for (uint32_t d = 0; d < b->dim; d++) row[d] *= w;
            }
            return WB_OK;
        }

        /* out[r] = w_r * sum of the masked x[r][t], so d out[r] / d x[r][t] = w_r for a masked token. */
        static wb_status backward(wb_instance* instance, const wb_pooling_batch* b, const float* grad_out,
                                  float* grad_tokens, float* grad_values) {
            const pooling* self = instance;
            for (uint32_t r = 0; r < b->batch; r++) {
                float w = weight(self, b, r);
                for (uint32_t t = 0; t < b->tokens; t++) {
                    size_t i = (size_t)r * b->tokens + t;
                    float on = b->mask[i] ? w : 0.0f;
                    if (grad_values != NULL) grad_values[i] = 0.0f; /* forward never reads the values */
                    if (grad_tokens == NULL) continue;
                    for (uint32_t d = 0; d < b->dim; d++) grad_tokens[i * b->dim + d] = on * grad_out[(size_t)r * b->dim + d];
                }
            }
            return WB_OK;
        }

        static const wb_pooling_functions functions = {
            .struct_size = sizeof(wb_pooling_functions),
            .flags = 0, /* WB_POOLING_USES_VALUES would promise that forward reads batch->values */
            .forward = forward,
            .backward = backward,
        };


        """# + entry(kind: "WB_KIND_POOLING", summary: "masked mean (or sum) of the token embeddings", functions: "functions")
    }

    // MARK: contrastive

    var contrastive: String {
        prologue("""
        A cosine-distance loss between two views: for each row whose reward is at least
        `min-reward` (the correct rollouts, by default), 1 - cos(annotated CoT, rollout CoT),
        averaged over those rows (a mean, as the host expects; the header's REDUCTION). backward
        is its exact gradient. Change forward() and backward() together: `plugin check` compares
        backward with finite differences of forward.
        """) + #"""

        /* ---- Config ------------------------------------------------------------------------------------ */

        static const wb_config_key min_reward_key = {
            .struct_size = sizeof(wb_config_key),
            .type = WB_CONFIG_FLOAT,
            .name = "min-reward",
            .default_value = "1",
            .help = "rows whose reward is at least this take part (1: the correct rollouts)",
            .choices = NULL,
        };

        static const wb_config_key* const config_keys[] = {&min_reward_key};

        /* ---- Instance ---------------------------------------------------------------------------------- */

        typedef struct {
            const wb_host* host; /* for metrics; lives until destroy */
            float min_reward;
        } contrastive;

        static wb_status create(const wb_plugin_descriptor* descriptor, const wb_host* host, uint32_t count,
                                const char* const* keys, const char* const* values, wb_instance** out_instance) {
            (void)descriptor;
            contrastive* self = malloc(sizeof *self);
            if (self == NULL) {
                host->error(host, "out of memory");
                return WB_ERROR_OUT_OF_MEMORY;
            }
            self->host = host;
            self->min_reward = 1.0f;
            for (uint32_t i = 0; i < count; i++)
                if (strcmp(keys[i], "min-reward") == 0) self->min_reward = (float)strtod(values[i], NULL);
            *out_instance = self;
            return WB_OK;
        }

        static void destroy(wb_instance* instance) { free(instance); }

        /* ---- Views ------------------------------------------------------------------------------------- */

        /* View 0: the annotated CoT; view 1: the rollout's CoT. */
        static const uint32_t sources[] = {WB_VIEW_ANNOTATED, WB_VIEW_ROLLOUT};

        static uint32_t view_count(const wb_instance* instance) {
            (void)instance;
            return sizeof sources / sizeof sources[0];
        }

        static uint32_t view_source(const wb_instance* instance, uint32_t view) {
            (void)instance;
            return view < view_count(instance) ? sources[view] : 0;
        }

        /* Each view is its sequence's CoT tokens; `present` keeps padding out of a view. */
        static wb_status select_views(wb_instance* instance, const wb_token_views_batch* b, uint8_t* const* out_masks) {
            (void)instance;
            for (size_t i = 0; i < (size_t)b->batch * b->annotated_tokens; i++)
                out_masks[0][i] = b->annotated_cot[i] && b->annotated_present[i];
            for (size_t i = 0; i < (size_t)b->batch * b->rollout_tokens; i++)
                out_masks[1][i] = b->rollout_cot[i] && b->rollout_present[i];
            return WB_OK;
        }

        /* ---- Loss -------------------------------------------------------------------------------------- */

        static int takes_part(const contrastive* self, const wb_contrastive_batch* b, uint32_t i) {
            return b->valid[i] && b->rewards[i] >= self->min_reward;
        }

        static uint32_t rows(const contrastive* self, const wb_contrastive_batch* b) {
            uint32_t n = 0;
            for (uint32_t i = 0; i < b->batch; i++) n += takes_part(self, b, i);
            return n;
        }

        /* An empty view pools to a zero vector, which has no direction: below this norm the cosine
           counts as 0 and passes no gradient. */
        static const double norm_floor = 1e-8;

        /* cos(x, y) and both norms; 0 when either norm is below the floor. */
        static double cosine(const float* x, const float* y, uint32_t dim, double* nx, double* ny) {
            double xy = 0, xx = 0, yy = 0;
            for (uint32_t d = 0; d < dim; d++) {
                xy += (double)x[d] * y[d];
                xx += (double)x[d] * x[d];
                yy += (double)y[d] * y[d];
            }
            *nx = sqrt(xx);
            *ny = sqrt(yy);
            return *nx < norm_floor || *ny < norm_floor ? 0 : xy / (*nx * *ny);
        }

        /* L = (1/n) sum over the n rows taking part of (1 - cos(a_i, r_i)); 0 when n is 0. */
        static wb_status forward(wb_instance* instance, const wb_contrastive_batch* b, double* out_loss) {
            const contrastive* self = instance;
            uint32_t n = rows(self, b);
            double total = 0, na, nr;
            for (uint32_t i = 0; i < b->batch; i++)
                if (takes_part(self, b, i))
                    total += 1 - cosine(b->views[0] + (size_t)i * b->dim, b->views[1] + (size_t)i * b->dim, b->dim, &na, &nr);
            *out_loss = n > 0 ? total / n : 0;
            /* In `workbench rl`'s metrics.jsonl as plugin/\#(name)/rows. */
            self->host->metric(self->host, "\#(name)/rows", n);
            return WB_OK;
        }

        /* d cos(a, r) / d a = r / (|a| |r|) - cos * a / |a|^2 (and the same with a and r swapped), times
           dL/dcos = -grad_loss / n. Rows that take no part get zeros. */
        static wb_status backward(wb_instance* instance, const wb_contrastive_batch* b, float grad_loss,
                                  float* const* grad_views) {
            const contrastive* self = instance;
            for (uint32_t v = 0; v < 2; v++)
                if (grad_views[v] != NULL)
                    for (size_t k = 0; k < (size_t)b->batch * b->dim; k++) grad_views[v][k] = 0.0f;
            uint32_t n = rows(self, b);
            if (n == 0) return WB_OK;
            double g = -(double)grad_loss / n;
            for (uint32_t i = 0; i < b->batch; i++) {
                if (!takes_part(self, b, i)) continue;
                const float* a = b->views[0] + (size_t)i * b->dim;
                const float* r = b->views[1] + (size_t)i * b->dim;
                double na, nr;
                double c = cosine(a, r, b->dim, &na, &nr);
                if (na < norm_floor || nr < norm_floor) continue;
                for (uint32_t d = 0; d < b->dim; d++) {
                    size_t k = (size_t)i * b->dim + d;
                    if (grad_views[0] != NULL) grad_views[0][k] = (float)(g * (r[d] / (na * nr) - c * a[d] / (na * na)));
                    if (grad_views[1] != NULL) grad_views[1][k] = (float)(g * (a[d] / (na * nr) - c * r[d] / (nr * nr)));
                }
            }
            return WB_OK;
        }

        static const wb_contrastive_functions functions = {
            .struct_size = sizeof(wb_contrastive_functions),
            .reserved = 0,
            .view_count = view_count,
            .view_source = view_source,
            .select = select_views,
            .forward = forward,
            .backward = backward,
        };


        """# + entry(kind: "WB_KIND_CONTRASTIVE",
                    summary: "mean over correct rollouts of 1 - cos(annotated CoT, rollout CoT)",
                    functions: "functions")
    }
}
