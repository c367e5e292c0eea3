/* A plugin as built against an older minor version of the header, before the descriptor's
   get_extension and the config key's choices were appended: its structs are shorter and say so
   in struct_size. It must still load and work. The truncated layouts are spelled out here
   because the current header has the longer ones. */
#include "fixture_common.h"

typedef struct {
    uint32_t struct_size, type;
    const char *name, *default_value, *help;
} old_config_key;

typedef struct {
    uint32_t struct_size, abi_major, abi_minor, kind;
    const char *id, *version, *summary;
    uint32_t config_key_count, reserved;
    const old_config_key* const* config_keys;
    wb_status (*create)(const wb_plugin_descriptor*, const wb_host*, uint32_t, const char* const*,
                        const char* const*, wb_instance**);
    void (*destroy)(wb_instance*);
    const void* functions;
} old_descriptor;

static const old_config_key scale = {sizeof(old_config_key), WB_CONFIG_FLOAT, "unused-scale", "1.0",
                                     "a key from the old layout, without choices"};
static const old_config_key* const keys[] = {&scale};
static const wb_pooling_functions functions = {sizeof(wb_pooling_functions), 0, mean_forward, mean_backward};
static const old_descriptor descriptor = {
    sizeof(old_descriptor), WB_ABI_MAJOR, 0, WB_KIND_POOLING, "org.fixture.pooling.older-minor", "0.9",
    "mean pooling from an older minor header", 1, 0, keys, fixture_create, fixture_destroy, &functions};
static const wb_plugin_descriptor* plugins[1];
static wb_library library = {sizeof(wb_library), WB_ABI_MAJOR, 0, 1, plugins};

WB_EXPORT const wb_library* workbench_plugin_entry_v1(const wb_host_info* info) {
    (void)info;
    plugins[0] = (const wb_plugin_descriptor*)(const void*)&descriptor;
    return &library;
}
