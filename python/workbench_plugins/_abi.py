"""The plugin ABI of include/workbench_plugin.h (version 1.0) as ctypes declarations.

Field for field the header's structs, in its order; ctypes lays them out with the platform's C
rules, as the compiler lays out the header. Nothing here calls a plugin.
"""
import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int32, c_uint8,
                    c_uint32, c_void_p)

ABI_MAJOR = 1
ABI_MINOR = 0
ENTRY_SYMBOL = "workbench_plugin_entry_v1"

OK = 0
STATUS_NAMES = {0: "WB_OK", 1: "WB_ERROR", 2: "WB_ERROR_INVALID_ARGUMENT", 3: "WB_ERROR_CONFIG",
                4: "WB_ERROR_OUT_OF_MEMORY", 5: "WB_ERROR_UNSUPPORTED"}

LOG_LEVELS = {0: "debug", 1: "info", 2: "warning", 3: "error"}

CONFIG_BOOL, CONFIG_INT, CONFIG_FLOAT, CONFIG_STRING = 1, 2, 3, 4
KIND_REWARD, KIND_POOLING, KIND_CONTRASTIVE = 1, 2, 3
KIND_NAMES = {KIND_REWARD: "reward", KIND_POOLING: "pooling", KIND_CONTRASTIVE: "contrastive"}
POOLING_USES_VALUES = 1
VIEW_ROLLOUT, VIEW_ANNOTATED = 1, 2

wb_status = c_int32


class wb_host_info(Structure):
    pass


HostInfoError = CFUNCTYPE(None, POINTER(wb_host_info), c_char_p)
wb_host_info._fields_ = [
    ("struct_size", c_uint32),
    ("abi_major", c_uint32),
    ("abi_minor", c_uint32),
    ("host_name", c_char_p),
    ("host_version", c_char_p),
    ("error", HostInfoError),
]


class wb_host(Structure):
    pass


HostError = CFUNCTYPE(None, POINTER(wb_host), c_char_p)
HostLog = CFUNCTYPE(None, POINTER(wb_host), c_int32, c_char_p)
HostMetric = CFUNCTYPE(None, POINTER(wb_host), c_char_p, c_double)
HostGetExtension = CFUNCTYPE(c_void_p, POINTER(wb_host), c_char_p)
wb_host._fields_ = [
    ("struct_size", c_uint32),
    ("reserved", c_uint32),
    ("host_data", c_void_p),
    ("error", HostError),
    ("log", HostLog),
    ("metric", HostMetric),
    ("get_extension", HostGetExtension),
]


class wb_config_key(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_uint32),
        ("name", c_char_p),
        ("default_value", c_char_p),
        ("help", c_char_p),
        ("choices", c_char_p),
    ]


class wb_plugin_descriptor(Structure):
    pass


Create = CFUNCTYPE(wb_status, POINTER(wb_plugin_descriptor), POINTER(wb_host), c_uint32,
                   POINTER(c_char_p), POINTER(c_char_p), POINTER(c_void_p))
Destroy = CFUNCTYPE(None, c_void_p)
DescriptorGetExtension = CFUNCTYPE(c_void_p, POINTER(wb_plugin_descriptor), c_char_p)
wb_plugin_descriptor._fields_ = [
    ("struct_size", c_uint32),
    ("abi_major", c_uint32),
    ("abi_minor", c_uint32),
    ("kind", c_uint32),
    ("id", c_char_p),
    ("version", c_char_p),
    ("summary", c_char_p),
    ("config_key_count", c_uint32),
    ("reserved", c_uint32),
    ("config_keys", POINTER(POINTER(wb_config_key))),
    ("create", Create),
    ("destroy", Destroy),
    ("functions", c_void_p),
    ("get_extension", DescriptorGetExtension),
]
# Every ABI 1.x descriptor has at least the fields up to and including `functions`.
DESCRIPTOR_REQUIRED_SIZE = wb_plugin_descriptor.functions.offset + ctypes.sizeof(c_void_p)


class wb_library(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_major", c_uint32),
        ("abi_minor", c_uint32),
        ("plugin_count", c_uint32),
        ("plugins", POINTER(POINTER(wb_plugin_descriptor))),
    ]


Entry = CFUNCTYPE(POINTER(wb_library), POINTER(wb_host_info))


# ---- REWARD ----
class wb_reward_batch(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("count", c_uint32),
        ("prompts", POINTER(c_char_p)),
        ("completions", POINTER(c_char_p)),
        ("gold_answers", POINTER(c_char_p)),
        ("gold_values", POINTER(c_double)),
        ("embedding_dim", c_uint32),
        ("reserved", c_uint32),
        ("rollout_embeddings", POINTER(c_float)),
        ("annotated_embeddings", POINTER(c_float)),
    ]


Score = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_reward_batch), POINTER(c_float))


class wb_reward_functions(Structure):
    _fields_ = [("struct_size", c_uint32), ("score", Score)]


# ---- POOLING ----
class wb_pooling_batch(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("batch", c_uint32),
        ("tokens", c_uint32),
        ("dim", c_uint32),
        ("token_embeddings", POINTER(c_float)),
        ("values", POINTER(c_float)),
        ("mask", POINTER(c_uint8)),
    ]


PoolingForward = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_pooling_batch), POINTER(c_float))
PoolingBackward = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_pooling_batch), POINTER(c_float),
                            POINTER(c_float), POINTER(c_float))


class wb_pooling_functions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("forward", PoolingForward),
        ("backward", PoolingBackward),
    ]


# ---- CONTRASTIVE ----
class wb_token_views_batch(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("batch", c_uint32),
        ("rollout_tokens", c_uint32),
        ("annotated_tokens", c_uint32),
        ("rollout_ids", POINTER(c_int32)),
        ("rollout_present", POINTER(c_uint8)),
        ("rollout_cot", POINTER(c_uint8)),
        ("annotated_ids", POINTER(c_int32)),
        ("annotated_present", POINTER(c_uint8)),
        ("annotated_cot", POINTER(c_uint8)),
    ]


class wb_contrastive_batch(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("batch", c_uint32),
        ("dim", c_uint32),
        ("view_count", c_uint32),
        ("views", POINTER(POINTER(c_float))),
        ("rewards", POINTER(c_float)),
        ("valid", POINTER(c_uint8)),
    ]


ViewCount = CFUNCTYPE(c_uint32, c_void_p)
ViewSource = CFUNCTYPE(c_uint32, c_void_p, c_uint32)
Select = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_token_views_batch), POINTER(POINTER(c_uint8)))
ContrastiveForward = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_contrastive_batch), POINTER(c_double))
ContrastiveBackward = CFUNCTYPE(wb_status, c_void_p, POINTER(wb_contrastive_batch), c_float,
                                POINTER(POINTER(c_float)))


class wb_contrastive_functions(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("view_count", ViewCount),
        ("view_source", ViewSource),
        ("select", Select),
        ("forward", ContrastiveForward),
        ("backward", ContrastiveBackward),
    ]


FUNCTION_TABLES = {KIND_REWARD: wb_reward_functions, KIND_POOLING: wb_pooling_functions,
                   KIND_CONTRASTIVE: wb_contrastive_functions}

GRADIENT_CHECK_CONFIG = b"org.workbench.gradient-check-config.v1"


def read_sized(pointer, struct_type):
    """The struct at `pointer` as its writer sized it: fields beyond the writer's struct_size read
    as zero (the header's rule for minor versions), so an older plugin's shorter struct is safe."""
    size = ctypes.cast(pointer, POINTER(c_uint32))[0]
    out = struct_type()
    ctypes.memmove(ctypes.addressof(out), pointer, min(size, ctypes.sizeof(struct_type)))
    return out, size
