/*
 * workbench_plugin.h — the workbench plugin ABI, version 1.0.
 *
 * A plugin library is a shared object (.so) that exports ONE function, workbench_plugin_entry_v1,
 * which returns a table of plugin descriptors. Each descriptor describes one plugin: a reward,
 * a pooling, or a contrastive loss. The workbench (the "host") creates instances of a plugin from
 * key=value configuration and calls the plugin's kind-specific functions during training.
 *
 * Read this file top to bottom; it is the whole contract. `workbench plugin new <name> --lang c`
 * (or `--lang swift`, with `--kind reward|pooling|contrastive`) writes a plugin folder that
 * builds and passes `workbench plugin check` as generated. Build a C plugin with nothing else
 * (-lm links the C math library, which expf, sqrtf and the like need):
 *
 *     cc -shared -fPIC -std=c11 -I include -o libmine.so mine.c -lm
 *     workbench plugin check ./libmine.so
 *
 * In Swift, make a SwiftPM package (swift-tools-version 5.9 or later) with
 *   - a system-library target, `.systemLibrary(name: "WorkbenchPluginABI")`, whose folder
 *     Sources/WorkbenchPluginABI holds a copy of this header and a file module.modulemap:
 *         module WorkbenchPluginABI [system] { header "workbench_plugin.h" export * }
 *   - a target that depends on it, `import WorkbenchPluginABI`, and exports the entry with
 *         @_cdecl("workbench_plugin_entry_v1") public func entry(_ info: UnsafePointer<wb_host_info>?) -> UnsafePointer<wb_library>?
 *     (`public`, or an optimised build drops the symbol), and has
 *         linkerSettings: [.unsafeFlags(["-no-toolchain-stdlib-rpath"])]
 *     so the library gets no RUNPATH into the toolchain's folder: the host already has the
 *     Swift runtime loaded, and a library should not depend on where a compiler was installed;
 *   - a product `.library(name: "mine", type: .dynamic, targets: [...])`;
 * then `swift build -c release` makes .build/release/libmine.so. Swift imports the enum constants
 * below as Int, so convert them to the type of the field or result that takes them:
 * wb_status(WB_OK), UInt32(WB_KIND_REWARD), UInt32(WB_CONFIG_FLOAT). Keep every descriptor and
 * string in memory allocated once and never freed, and catch every error inside the plugin.
 *
 * General rules (they hold for every function below unless its comment says otherwise):
 *
 * - VERSIONS. The major version is in the entry symbol's name; a host refuses other majors.
 *   Minor versions only append fields to the end of structs. Every struct that crosses the
 *   boundary starts with `uint32_t struct_size` (sizeof the struct as its writer compiled it);
 *   a reader touches a field only when the writer's struct_size covers it (WB_HAS_FIELD below).
 *   New optional features are found by versioned string ids (get_extension).
 * - MEMORY. The host allocates every buffer, outputs and gradients included; a plugin writes into
 *   them. A plugin owns only its descriptors and strings (alive until the process exits: the host
 *   never unloads a library) and its instances (freed by destroy). Nothing allocated on one side
 *   is freed on the other. Pointers in a batch struct are valid only during the call that
 *   receives them; copy what you need to keep.
 * - ERRORS. Functions return a wb_status (WB_OK = 0). On failure a plugin reports a message through
 *   the host's error sink (host->error) and returns a nonzero status. Nothing unwinds across the
 *   boundary: C++ plugins catch their exceptions, Swift plugins their errors. After a failed call
 *   the contents of the output buffers are unspecified. The host checks every output for NaN/Inf
 *   and names the plugin and the call when it finds one.
 * - GRADIENTS. backward functions OVERWRITE the gradient buffers (they never accumulate into them).
 *   A NULL gradient pointer means the host does not need that gradient; skip it.
 * - ARRAYS. All arrays are dense and row-major, float32 unless stated. "batch×T×dim" means
 *   element [b][t][d] is at index (b*T + t)*dim + d.
 * - STRINGS are NUL-terminated UTF-8.
 * - NULL. Every pointer the host passes (arguments, batch fields, array entries, callbacks) is
 *   non-NULL unless its comment below says when it may be NULL; the instance pointer is whatever
 *   create stored. Every batch holds at least one row.
 * - THREADS. create and destroy are called on the host's main thread. The kind functions of one
 *   instance are called from one thread at a time (never concurrently), but not always the same
 *   thread; different instances may be used concurrently from different threads, so instances
 *   must not share mutable state without their own locking. Host callbacks (error, log, metric)
 *   may be called only from inside a call the host made, on the thread that made it.
 */
#ifndef WORKBENCH_PLUGIN_H
#define WORKBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions and the entry symbol ------------------------------------------------------------ */

#define WB_ABI_MAJOR 1
#define WB_ABI_MINOR 0

/* The entry symbol's name, for dlsym. It changes only with the major version. */
#define WB_ENTRY_SYMBOL "workbench_plugin_entry_v1"

/* Marks the entry function as exported even when the library is built with
   -fvisibility=hidden. */
#if defined(_WIN32)
#define WB_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define WB_EXPORT __attribute__((visibility("default")))
#else
#define WB_EXPORT
#endif

/* True when the writer of the struct at `ptr` (of struct type `type`) included `field`, i.e. its
   struct_size covers the whole field. Use it before reading any field added after 1.0. */
#define WB_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type*)0)->field))

/* ---- Status codes ----------------------------------------------------------------------------- */

typedef int32_t wb_status;

enum {
    WB_OK = 0,
    WB_ERROR = 1,                  /* anything else; the message says what */
    WB_ERROR_INVALID_ARGUMENT = 2, /* a batch the plugin cannot handle (sizes, missing inputs) */
    WB_ERROR_CONFIG = 3,           /* a config value the plugin rejects (out of range, ...) */
    WB_ERROR_OUT_OF_MEMORY = 4,
    WB_ERROR_UNSUPPORTED = 5       /* a request this plugin does not implement */
};

/* ---- What the host gives the plugin ----------------------------------------------------------- */

/* Log levels for wb_host.log. */
enum {
    WB_LOG_DEBUG = 0,
    WB_LOG_INFO = 1,
    WB_LOG_WARNING = 2,
    WB_LOG_ERROR = 3
};

/* Passed to the entry function. Owned by the host; valid only during the entry call. */
typedef struct wb_host_info wb_host_info;
struct wb_host_info {
    uint32_t struct_size;
    uint32_t abi_major;       /* the host's WB_ABI_MAJOR */
    uint32_t abi_minor;       /* the host's WB_ABI_MINOR */
    const char* host_name;    /* e.g. "workbench" */
    const char* host_version; /* e.g. "0.4.0" */
    /* Error sink for the entry call: say why the library returns NULL (e.g. the host is too old).
       The host copies the message before returning; the plugin keeps ownership of it. */
    void (*error)(const wb_host_info* info, const char* message);
};

/* The host side of one instance, passed to create. Owned by the host, which keeps it alive and
   unchanged until destroy of that instance returns, so the plugin may store the pointer. */
typedef struct wb_host wb_host;
struct wb_host {
    uint32_t struct_size;
    uint32_t reserved;        /* 0; keeps the pointers 8-byte aligned on every platform */
    void* host_data;          /* the host's; plugins never touch it */
    /* Error sink: the message explaining the nonzero status the current call is about to return.
       Called at most a few times per call; the host keeps the messages and shows them to the
       user with the plugin's id. The host copies `message`; the plugin keeps ownership. */
    void (*error)(const wb_host* host, const char* message);
    /* Free-form diagnostics (level: WB_LOG_*). The host copies `message`. */
    void (*log)(const wb_host* host, int32_t level, const char* message);
    /* A named scalar for the run's metrics, e.g. metric(host, "mine/rows", 3). `workbench rl`
       writes the mean of the values a name got during one update into that update's line of
       metrics.jsonl under the key "plugin/<name>" ("plugin/mine/rows"), and the report of
       `workbench compare` (and of `workbench --plugin`) draws one chart per such key. All the
       run's plugins share the names, so start yours with the plugin's short name. `plugin
       check` ignores metrics. The host copies `name`; `value` should be finite. */
    void (*metric)(const wb_host* host, const char* name, double value);
    /* Optional host features by versioned id (none defined in 1.0). Returns NULL when the host
       has no such feature. The returned pointer lives as long as this wb_host. */
    const void* (*get_extension)(const wb_host* host, const char* extension_id);
};

/* ---- Configuration ---------------------------------------------------------------------------- */

/* Value types of config keys. The host parses and checks every value against its declared type
   before create, so a plugin sees only well-formed strings:
     BOOL   "true" or "false"
     INT    a decimal integer that fits int64_t, e.g. "-3"
     FLOAT  a decimal or exponent number, finite, e.g. "0.2", "1e-3"
     STRING anything; restricted to `choices` when the key lists them */
enum {
    WB_CONFIG_BOOL = 1,
    WB_CONFIG_INT = 2,
    WB_CONFIG_FLOAT = 3,
    WB_CONFIG_STRING = 4
};

/* One configuration key a plugin accepts. Owned by the plugin; lives until the process exits. */
typedef struct wb_config_key wb_config_key;
struct wb_config_key {
    uint32_t struct_size;
    uint32_t type;             /* WB_CONFIG_* */
    const char* name;          /* e.g. "tau"; letters, digits, '-', '_' and '.' */
    const char* default_value; /* the value used when the user gives none; must parse as `type` */
    const char* help;          /* one line for `workbench plugin list` */
    const char* choices;       /* STRING only: allowed values separated by '|' ("cosine|dot"), or NULL */
};

/* ---- Instances and descriptors ---------------------------------------------------------------- */

/* A plugin's instance: whatever the plugin allocates in create. Opaque to the host. */
typedef void wb_instance;

/* Plugin kinds. */
enum {
    WB_KIND_REWARD = 1,
    WB_KIND_POOLING = 2,
    WB_KIND_CONTRASTIVE = 3
};

typedef struct wb_plugin_descriptor wb_plugin_descriptor;
struct wb_plugin_descriptor {
    uint32_t struct_size;
    uint32_t abi_major;        /* WB_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;        /* WB_ABI_MINOR the plugin was built against */
    uint32_t kind;             /* WB_KIND_*: says which table `functions` points to */
    const char* id;            /* reverse-DNS, unique: "org.example.reward.format-aware" */
    const char* version;       /* the plugin's own version, e.g. "1.2.0" */
    const char* summary;       /* one line for `workbench plugin list` */

    /* The keys this plugin accepts (the host rejects any other key). An array of
       config_key_count pointers (pointers, so that wb_config_key may grow); NULL when the count
       is 0. */
    uint32_t config_key_count;
    uint32_t reserved;         /* 0 */
    const wb_config_key* const* config_keys;

    /* Creates an instance. Main thread. `descriptor` is this descriptor (one function may serve
       several). `host` lives until destroy of the new instance returns. The config arrives as
       `config_count` pairs keys[i]=values[i], one per declared key, with the defaults filled in
       and every value already checked against its key's type, in declaration order (`keys` and
       `values` may be NULL when config_count is 0). On WB_OK,
       *out_instance holds the new instance (it may be NULL if the plugin needs no state). On
       failure, report through host->error and leave *out_instance unset. The strings are valid
       only during the call. */
    wb_status (*create)(const wb_plugin_descriptor* descriptor, const wb_host* host,
                        uint32_t config_count, const char* const* keys, const char* const* values,
                        wb_instance** out_instance);
    /* Frees an instance made by create (NULL when create set *out_instance to NULL). Main
       thread. No call on the instance is running or follows. Must not fail. */
    void (*destroy)(wb_instance* instance);

    /* The kind's function table: a const wb_reward_functions*, wb_pooling_functions* or
       wb_contrastive_functions* according to `kind`. Owned by the plugin, lives forever. */
    const void* functions;

    /* Optional features by versioned id (WB_EXT_* below); may itself be NULL. Returns NULL
       for unknown ids. Any thread. */
    const void* (*get_extension)(const wb_plugin_descriptor* descriptor, const char* extension_id);
};

/* Descriptor extensions (ids for wb_plugin_descriptor.get_extension). All are optional.

   WB_EXT_GRADIENT_CHECK_CONFIG: the returned pointer is a `const char*` (NUL-terminated, alive
   until the process exits) holding key=value pairs separated by commas, e.g.
   "detach-denominator=false". A plugin provides it when its backward deliberately differs from
   the gradient of its forward under some config (a stop-gradient, as CARFT's reference code
   detaches the InfoNCE denominator): the pairs name a config under which backward IS the exact
   gradient. `workbench plugin check` then compares backward with finite differences on an
   instance created with these pairs applied on top of the checked config, and says so. */
#define WB_EXT_GRADIENT_CHECK_CONFIG "org.workbench.gradient-check-config.v1"

/* What the entry function returns. Owned by the plugin; lives until the process exits. */
typedef struct wb_library wb_library;
struct wb_library {
    uint32_t struct_size;
    uint32_t abi_major;        /* WB_ABI_MAJOR */
    uint32_t abi_minor;        /* WB_ABI_MINOR */
    uint32_t plugin_count;
    /* plugin_count pointers (pointers, so that wb_plugin_descriptor may grow). */
    const wb_plugin_descriptor* const* plugins;
};

/* The entry function. Exported by every plugin library under the name WB_ENTRY_SYMBOL. Called
   once per load, on the main thread, before anything else. `info` describes the host; it is
   valid only during the call. Returns the library's table, or NULL (after info->error) when the
   library cannot work with this host. */
typedef const wb_library* (*wb_entry_function)(const wb_host_info* info);

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info);

/* ---- REWARD: scores a batch of rollouts ------------------------------------------------------- */
/*
 * WHAT THE MODEL WRITES. The host prompts the model with
 *     "Question:\n" <question> "\nAnswer reasoning:\n"
 * (inside the model's chat template, for chat models) and trains it, in SFT, to continue with
 *     <chain of thought> "\nTherefore, the answer is: " <number>
 * and end the sequence. A completion is the continuation a rollout sampled, decoded to text: no
 * prompt, no special tokens (end of sequence, chat markers). One cut off at the token limit ends
 * wherever it stopped, and a model may write anything, so parse defensively.
 *
 * READING THE ANSWER, as the host's evaluation and built-in rewards do:
 *   1. Take the text after the LAST "\nTherefore, the answer is: ", or, when there is none, after
 *      "Therefore, the answer is: " at the very start of the completion. Neither: no answer.
 *   2. Keep only that line (up to the next '\n').
 *   3. The answer is the first number on the line: an optional '-' or '+' right before it, then
 *      digits, and an optional fraction ('.' and at least one digit; ".5" alone is a number too).
 *      Commas count only in thousands groups (one to three leading digits, then groups of ',' and
 *      exactly three digits) and are dropped. "1,234.5" reads 1234.5, "-12." reads -12,
 *      "3, 4" reads 3. No digit on the line: no answer.
 *   4. The answer is correct when |answer - gold_values[i]| <= 1e-2 (0.333 matches 1/3).
 *
 * THE REWARD SCALE. A reward of 1 or more means "correct": `workbench rl` counts rollouts with
 * reward >= 1 as correct in its rollout accuracy, and CARFT's contrastive losses take rows with
 * reward >= 1 as the correct rollouts (the built-in positive InfoNCE contrasts those) and the rest
 * as wrong ones (the LCS negative signal contrasts those). The built-in rewards give 1 for a
 * correct answer, a partial value for a readable but wrong number (0.1, ReFT's; 0.1 to 0.3 for
 * CARFT's embedding reward) and 0 for no answer. Keep every reward for a wrong answer below 1.
 * A score >= 1 for a completion without an answer line is almost certainly a bug.
 */

/* One batch of rollouts to score. Owned by the host; valid only during the call. */
typedef struct wb_reward_batch wb_reward_batch;
struct wb_reward_batch {
    uint32_t struct_size;
    uint32_t count;                       /* rollouts in the batch (at least 1) */
    const char* const* prompts;           /* [count] the question alone, as the data set has it
                                             (not the "Question:\n..." prompt around it) */
    const char* const* completions;       /* [count] the sampled continuation as text (see above) */
    const char* const* gold_answers;      /* [count] the reference answer as text: an integer
                                             without ".0" ("42", "-3"), otherwise the shortest
                                             text that reads back as gold_values[i] ("2.75") */
    const double* gold_values;            /* [count] the reference answer as a number; judge
                                             correctness against this one */
    /* CARFT's pooled CoT embeddings, when the host has them (a contrastive stage is running);
       otherwise embedding_dim is 0 and both pointers are NULL (plain PPO, Dr.GRPO). */
    uint32_t embedding_dim;
    uint32_t reserved;                    /* 0 */
    const float* rollout_embeddings;      /* [count×embedding_dim] or NULL */
    const float* annotated_embeddings;    /* [count×embedding_dim] or NULL */
};

typedef struct wb_reward_functions wb_reward_functions;
struct wb_reward_functions {
    uint32_t struct_size;
    /* Writes one reward per rollout into out_rewards[count] (host-allocated), on the scale
       above. Every reward must be finite. */
    wb_status (*score)(wb_instance* instance, const wb_reward_batch* batch, float* out_rewards);
};

/* ---- POOLING: turns token embeddings into one embedding per sequence -------------------------- */

/* Owned by the host; valid only during the call.
 * In training, token t of a row is the t-th token of the whole sequence (prompt, then the
 * continuation); its embedding is the value head's projection p and its value V at the state
 * that chose it (after token t−1; the first token, which no state chose, takes the state after
 * it), so a continuation token's V is the value PPO uses for that action. */
typedef struct wb_pooling_batch wb_pooling_batch;
struct wb_pooling_batch {
    uint32_t struct_size;
    uint32_t batch;                  /* sequences */
    uint32_t tokens;                 /* T: padded sequence length */
    uint32_t dim;                    /* embedding width */
    const float* token_embeddings;   /* [batch×T×dim] hidden states p_t */
    const float* values;             /* [batch×T] value-head outputs V_t. Training always passes
                                        them; NULL when the host has none (`plugin check` calls
                                        forward once without them when flags lack
                                        WB_POOLING_USES_VALUES); a plugin that needs them then
                                        fails with WB_ERROR_INVALID_ARGUMENT */
    const uint8_t* mask;             /* [batch×T] 1 = pool this token, 0 = skip it */
};

/* Flags for wb_pooling_functions.flags. */
enum {
    WB_POOLING_USES_VALUES = 1       /* forward reads batch->values */
};

typedef struct wb_pooling_functions wb_pooling_functions;
struct wb_pooling_functions {
    uint32_t struct_size;
    uint32_t flags;                  /* WB_POOLING_* */
    /* Writes out[batch×dim]. A row whose mask is all zero gets a zero embedding. */
    wb_status (*forward)(wb_instance* instance, const wb_pooling_batch* batch, float* out);
    /* Given grad_out[batch×dim] = dLoss/dout, overwrites grad_tokens[batch×T×dim] and
       grad_values[batch×T] (either may be NULL: skip it; grad_values is NULL whenever values is)
       with dLoss/dinput. Recomputes what it needs from `batch` (the same batch forward saw); no
       state is kept between calls. Masked-out tokens and all-zero-mask rows get zero gradient. */
    wb_status (*backward)(wb_instance* instance, const wb_pooling_batch* batch,
                          const float* grad_out, float* grad_tokens, float* grad_values);
};

/* ---- CONTRASTIVE: a loss over pooled embeddings of token "views" ------------------------------ */
/*
 * A contrastive plugin declares views: token subsets of the rollout or of the annotated CoT
 * sequence. Per training step the host
 *   1. calls select to get each view's token mask,
 *   2. pools each view with the pooling plugin (one batch×dim embedding per view),
 *   3. calls forward for the loss and backward for the gradient of each view's embedding, which it
 *      passes back through the pooling and the model.
 * Example, CARFT's positive InfoNCE: views = [annotated CoT, rollout CoT], masks = the CoT masks.
 */

/* Where a view's tokens come from (wb_contrastive_functions.view_source). */
enum {
    WB_VIEW_ROLLOUT = 1,             /* the sampled sequence (prompt + completion) */
    WB_VIEW_ANNOTATED = 2            /* the dataset's annotated sequence (prompt + CoT) */
};

/* The token sequences select chooses from. Owned by the host; valid only during the call. */
typedef struct wb_token_views_batch wb_token_views_batch;
struct wb_token_views_batch {
    uint32_t struct_size;
    uint32_t batch;
    uint32_t rollout_tokens;             /* T_r: padded length of rollout rows */
    uint32_t annotated_tokens;           /* T_a: padded length of annotated rows */
    const int32_t* rollout_ids;          /* [batch×T_r] token ids; padding after the sequence */
    const uint8_t* rollout_present;      /* [batch×T_r] 1 = a real token (prompt or completion) */
    const uint8_t* rollout_cot;          /* [batch×T_r] 1 = a CoT token of the completion */
    const int32_t* annotated_ids;        /* [batch×T_a] */
    const uint8_t* annotated_present;    /* [batch×T_a] */
    const uint8_t* annotated_cot;        /* [batch×T_a] 1 = a token of the annotated CoT */
};

/* The pooled views the loss is computed from. Owned by the host; valid only during the call. */
typedef struct wb_contrastive_batch wb_contrastive_batch;
struct wb_contrastive_batch {
    uint32_t struct_size;
    uint32_t batch;
    uint32_t dim;
    uint32_t view_count;                 /* = the instance's view_count */
    const float* const* views;           /* [view_count] pointers, each [batch×dim] */
    const float* rewards;                /* [batch] the rollouts' rewards from the run's reward
                                            plugin; reward >= 1 = a correct rollout (THE REWARD
                                            SCALE, under REWARD) */
    const uint8_t* valid;                /* [batch] 1 = a real row, 0 = padding: no loss term, not
                                            a candidate for other rows, zero gradient. Never NULL:
                                            training passes all 1 (no padding rows yet), `plugin
                                            check` a padding row */
};

typedef struct wb_contrastive_functions wb_contrastive_functions;
struct wb_contrastive_functions {
    uint32_t struct_size;
    uint32_t reserved;                   /* 0 */
    /* Number of views (at least 1). Constant for the instance's lifetime. */
    uint32_t (*view_count)(const wb_instance* instance);
    /* WB_VIEW_ROLLOUT or WB_VIEW_ANNOTATED for view `view` (< view_count). Constant too. */
    uint32_t (*view_source)(const wb_instance* instance, uint32_t view);
    /* Writes each view's token mask: out_masks holds view_count host-allocated pointers, view v's
       sized [batch×T_source(v)] (T_r or T_a), 1 = the token belongs to the view. A view may be
       empty in a row; its pooled embedding is then zero. */
    wb_status (*select)(wb_instance* instance, const wb_token_views_batch* batch,
                        uint8_t* const* out_masks);
    /* Writes the scalar loss into *out_loss (0 when no row takes part). REDUCTION: the host adds
       c × loss (c = `workbench rl --contrastive-coef`, 1e-3 by default) to a PPO mini-batch loss
       whose other terms are means over the mini-batch's rollouts, and divides it by nothing; so
       return a MEAN over the rows that take part, as the built-in InfoNCE does by default
       (reduction=mean). A sum grows with the mini-batch size and changes what c means. The
       run's metrics log this loss, before c, as contrastive_loss. */
    wb_status (*forward)(wb_instance* instance, const wb_contrastive_batch* batch, double* out_loss);
    /* Given grad_loss = dTotal/dloss (c in training), overwrites grad_views[v] ([batch×dim])
       with dTotal/dviews[v]; padding rows (valid 0) get zeros. grad_views[v] may be NULL: skip
       it (training passes NULL for every WB_VIEW_ANNOTATED view, which it pools without
       gradient). Recomputes from `batch`; no state is kept between calls. */
    wb_status (*backward)(wb_instance* instance, const wb_contrastive_batch* batch, float grad_loss,
                          float* const* grad_views);
};

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WORKBENCH_PLUGIN_H */
