"""Loading a plugin library through its entry symbol, and reading its descriptors.

The checks are the workbench host's: the ABI major, every descriptor's size, kind, id and required
functions, and every config key's declared default. A library that fails one is refused with a
PluginError that names the library, the plugin and what to do.
"""
import ctypes
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from . import _abi

HOST_NAME = b"workbench-python"
HOST_VERSION = b"0.1.0"


class PluginError(Exception):
    """A plugin library or instance that cannot be used, or a call that failed: the message names
    the library or plugin, the call, the plugin's own error messages and what to do."""


@dataclass(frozen=True)
class ConfigKey:
    name: str
    type: str  # "bool", "int", "float" or "string"
    default: str
    help: str
    choices: Optional[Tuple[str, ...]]

    def normalize(self, value) -> Optional[str]:
        """The value in the form the header promises plugins, or None when it is not of this type
        (the same rules as the workbench host: bools as true/false, finite decimal floats)."""
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        if self.type == "bool":
            low = text.lower()
            if low in ("true", "1", "yes", "on"):
                return "true"
            if low in ("false", "0", "no", "off"):
                return "false"
            return None
        if self.type == "int":
            if not re.fullmatch(r"[+-]?[0-9]+", text) or not -2**63 <= int(text) < 2**63:
                return None
            return text
        if self.type == "float":
            # Plain decimals only, as the workbench host reads them: no "1_000", spaces, hex, nan or inf.
            if not _DECIMAL.fullmatch(text) or not math.isfinite(float(text)):
                return None
            return text
        if self.choices is not None and text not in self.choices:
            return None
        return text


_CONFIG_TYPES = {_abi.CONFIG_BOOL: "bool", _abi.CONFIG_INT: "int", _abi.CONFIG_FLOAT: "float",
                 _abi.CONFIG_STRING: "string"}
_REVERSE_DNS = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_KEY_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _text(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", errors="replace")


class Descriptor:
    """One plugin of a library, validated: its id, kind, version, summary, config keys, and its
    kind's function table."""

    def __init__(self, library: "PluginLibrary", pointer, index: int):
        self.library = library
        self.pointer = pointer
        d, size = _abi.read_sized(pointer, _abi.wb_plugin_descriptor)
        self.raw = d
        where = f"plugin #{index} of {library.path}"
        rebuild = "fix the descriptor in the plugin's source and rebuild it (the rules are in include/workbench_plugin.h)"
        if d.abi_major != _abi.ABI_MAJOR:
            raise PluginError(f"{where} was built for plugin ABI {d.abi_major}.{d.abi_minor}, but this bridge speaks "
                              f"ABI {_abi.ABI_MAJOR}.{_abi.ABI_MINOR}; rebuild the plugin against a matching workbench_plugin.h")
        if size < _abi.DESCRIPTOR_REQUIRED_SIZE:
            raise PluginError(f"{where}: its struct_size is {size} bytes, smaller than the {_abi.DESCRIPTOR_REQUIRED_SIZE} "
                              f"every ABI 1.x descriptor has; {rebuild}")
        ident = _text(d.id)
        if ident is None or not _REVERSE_DNS.fullmatch(ident):
            raise PluginError(f"{where}: its id {ident!r} is not a reverse-DNS name such as org.example.reward.mine; {rebuild}")
        self.id = ident
        where = f"plugin {ident} ({library.path})"
        if d.kind not in _abi.KIND_NAMES:
            raise PluginError(f"{where}: kind {d.kind} is none of reward (1), pooling (2), contrastive (3); {rebuild}")
        self.kind = _abi.KIND_NAMES[d.kind]
        self.version = _text(d.version) or ""
        self.summary = _text(d.summary) or ""
        self.abi_minor = d.abi_minor
        if not d.create or not d.destroy or not d.functions:
            raise PluginError(f"{where}: create, destroy and functions must all be set; {rebuild}")
        table_type = _abi.FUNCTION_TABLES[d.kind]
        self.functions, _ = _abi.read_sized(d.functions, table_type)
        required = {"reward": ["score"], "pooling": ["forward", "backward"],
                    "contrastive": ["view_count", "view_source", "select", "forward", "backward"]}[self.kind]
        missing = [f for f in required if not getattr(self.functions, f)]
        if missing:
            raise PluginError(f"{where}: its {self.kind} function table lacks {', '.join(missing)}; {rebuild}")
        keys = []
        if d.config_key_count and not d.config_keys:
            raise PluginError(f"{where}: it declares {d.config_key_count} config keys but config_keys is NULL; {rebuild}")
        for i in range(d.config_key_count):
            if not d.config_keys[i]:
                raise PluginError(f"{where}: config key #{i} is NULL; {rebuild}")
            k, _ = _abi.read_sized(d.config_keys[i], _abi.wb_config_key)
            type_name = _CONFIG_TYPES.get(k.type)
            name = _text(k.name)
            if type_name is None or not name or not _KEY_NAME.fullmatch(name):
                raise PluginError(f"{where}: config key #{i} ({name!r}) has type {k.type} or a name that is not letters, digits, '-', '_' and '.'; {rebuild}")
            if any(key.name == name for key in keys):
                raise PluginError(f"{where}: config key '{name}' is declared twice; {rebuild}")
            if k.default_value is None:
                raise PluginError(f"{where}: config key '{name}' has no default value; {rebuild}")
            if k.choices and k.type != _abi.CONFIG_STRING:
                raise PluginError(f"{where}: config key '{name}' lists choices but is a {type_name}; only string keys have choices; {rebuild}")
            choices = tuple(_text(k.choices).split("|")) if k.choices else None
            key = ConfigKey(name, type_name, _text(k.default_value), _text(k.help) or "", choices)
            if key.normalize(key.default) is None:
                raise PluginError(f"{where}: config key '{name}' has default {key.default!r}, which is not a {type_name}; {rebuild}")
            keys.append(key)
        self.config_keys: List[ConfigKey] = keys

    def config(self, settings: Dict[str, object]) -> List[Tuple[str, str]]:
        """Every declared key in declaration order with `settings` applied over the defaults, each
        value checked against its key's type. Unknown keys are refused, naming the ones there are."""
        known = {k.name: k for k in self.config_keys}
        unknown = [k for k in settings if k not in known]
        if unknown:
            names = ", ".join(known) if known else "none"
            raise PluginError(f"plugin {self.id} has no config key {', '.join(repr(u) for u in unknown)} (its keys: {names})")
        out = []
        for key in self.config_keys:
            value = settings.get(key.name, key.default)
            text = key.normalize(value)
            if text is None:
                allowed = "|".join(key.choices) if key.choices else {"bool": "true or false", "int": "an integer such as 3",
                                                                     "float": "a finite number such as 0.2 or 1e-3",
                                                                     "string": "any text"}[key.type]
                raise PluginError(f"plugin {self.id}: config {key.name}={value!r} is not valid; give {allowed}")
            out.append((key.name, text))
        return out

    def gradient_check_config(self) -> Dict[str, str]:
        """The WB_EXT_GRADIENT_CHECK_CONFIG pairs: the config under which backward is the exact
        gradient of forward (empty when the plugin declares none)."""
        if not self.raw.get_extension:
            return {}
        ptr = self.raw.get_extension(self.pointer, _abi.GRADIENT_CHECK_CONFIG)
        if not ptr:
            return {}
        text = ctypes.cast(ptr, ctypes.c_char_p).value.decode()
        return dict(pair.split("=", 1) for pair in text.split(",") if pair)

    def __repr__(self):
        return f"<{self.kind} plugin {self.id} {self.version} from {self.library.path}>"


class PluginLibrary:
    """A plugin library loaded with dlopen and its entry function called once. Libraries are never
    unloaded, as the workbench host never unloads them (descriptors live until the process exits)."""

    _loaded: Dict[str, "PluginLibrary"] = {}

    def __new__(cls, path: str):
        real = os.path.realpath(path)
        if real in cls._loaded:
            return cls._loaded[real]
        self = super().__new__(cls)
        self._open(path, real)
        cls._loaded[real] = self
        return self

    def _open(self, path: str, real: str):
        self.path = path
        if not os.path.exists(real):
            raise PluginError(f"no plugin library at {path}; build it first (a C plugin: cc -shared -fPIC -I include "
                              f"-o libmine.so mine.c -lm; the built-ins: swift build -c release --product workbench_builtins)")
        try:
            self.handle = ctypes.CDLL(real, mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            if "libswift" in str(e) and _load_swift_runtime():
                self.handle = ctypes.CDLL(real, mode=ctypes.RTLD_GLOBAL)
            else:
                raise PluginError(f"cannot load {path}: {e}. A Swift plugin needs the Swift runtime: put `swift` on PATH "
                                  f"or set WORKBENCH_SWIFT_RUNTIME to the folder holding libswiftCore.so") from None
        try:
            entry_address = ctypes.cast(getattr(self.handle, _abi.ENTRY_SYMBOL), ctypes.c_void_p).value
        except AttributeError:
            raise PluginError(f"{path} exports no {_abi.ENTRY_SYMBOL}: it is not a workbench plugin library "
                              f"(export the entry function, `public` in Swift, WB_EXPORT in C)") from None
        entry = _abi.Entry(entry_address)
        messages: List[str] = []
        on_error = _abi.HostInfoError(lambda info, msg: messages.append(_text(msg) or ""))
        info = _abi.wb_host_info(ctypes.sizeof(_abi.wb_host_info), _abi.ABI_MAJOR, _abi.ABI_MINOR,
                                 HOST_NAME, HOST_VERSION, on_error)
        table = entry(ctypes.byref(info))
        if not table:
            why = "; ".join(messages) or "it gave no reason"
            raise PluginError(f"{path}'s entry function returned NULL: {why}")
        lib, _ = _abi.read_sized(table, _abi.wb_library)
        if lib.abi_major != _abi.ABI_MAJOR:
            raise PluginError(f"{path} was built for plugin ABI {lib.abi_major}.{lib.abi_minor}, but this bridge speaks "
                              f"ABI {_abi.ABI_MAJOR}.{_abi.ABI_MINOR}; rebuild it against a matching workbench_plugin.h")
        if lib.plugin_count and not lib.plugins:
            raise PluginError(f"{path}'s table lists {lib.plugin_count} plugins but its plugins pointer is NULL; fix the library's entry function")
        for i in range(lib.plugin_count):
            if not lib.plugins[i]:
                raise PluginError(f"{path}'s table has a NULL descriptor at #{i}; fix the library's entry function")
        self.descriptors = [Descriptor(self, lib.plugins[i], i) for i in range(lib.plugin_count)]
        ids = [d.id for d in self.descriptors]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise PluginError(f"{path} lists plugin {dup} twice; give each plugin its own id")

    def plugin(self, plugin_id: Optional[str] = None, kind: Optional[str] = None) -> Descriptor:
        """The plugin with this id, or the only one (of this kind) when the library has one."""
        candidates = [d for d in self.descriptors if kind is None or d.kind == kind]
        if plugin_id is None:
            if len(candidates) == 1:
                return candidates[0]
            listing = ", ".join(d.id for d in candidates) or "none"
            what = f"{kind} plugins" if kind else "plugins"
            raise PluginError(f"{self.path} has {len(candidates)} {what} ({listing}); pass id=... to pick one")
        for d in self.descriptors:
            if d.id == plugin_id:
                if kind is not None and d.kind != kind:
                    raise PluginError(f"plugin {plugin_id} in {self.path} is a {d.kind} plugin, not a {kind}")
                return d
        listing = ", ".join(d.id for d in self.descriptors) or "none"
        raise PluginError(f"{self.path} has no plugin {plugin_id} (it has: {listing})")

    def __repr__(self):
        return f"<PluginLibrary {self.path}: {', '.join(d.id for d in self.descriptors)}>"


def _load_swift_runtime() -> bool:
    """Loads libswiftCore.so globally so a Swift plugin built without a RUNPATH (as the workbench host
    expects: it has the runtime loaded already) can load here too. Looks in WORKBENCH_SWIFT_RUNTIME,
    then asks the `swift` on PATH where its runtime is."""
    folders = []
    if os.environ.get("WORKBENCH_SWIFT_RUNTIME"):
        folders.append(os.environ["WORKBENCH_SWIFT_RUNTIME"])
    swift = shutil.which("swift")
    if swift:
        folders.append(os.path.join(os.path.dirname(os.path.realpath(swift)), "..", "lib", "swift", "linux"))
        try:
            import json
            out = subprocess.run([swift, "-print-target-info"], capture_output=True, text=True, timeout=60)
            folders += json.loads(out.stdout)["paths"]["runtimeLibraryPaths"]
        except Exception:
            pass
    for folder in folders:
        core = os.path.join(folder, "libswiftCore.so")
        if os.path.exists(core):
            for name in ("libswiftCore.so", "libswift_Concurrency.so", "libFoundation.so"):
                p = os.path.join(folder, name)
                if os.path.exists(p):
                    ctypes.CDLL(p, mode=ctypes.RTLD_GLOBAL)
            return True
    return False
