/* The plugin call in progress, kept where a watchdog thread and a crash signal handler can read
   it. Plugins are code the host does not control: a call may never return, or crash the
   process, and then the only useful thing left to say is which plugin and which function.

   One call is recorded at a time (the host calls plugins from one thread; a call made while
   another is recorded replaces it until it ends). Everything here is plain C so the signal
   handler touches only static memory and async-signal-safe functions (write, sigaction, raise).
   The words printed are the caller's: the host passes its prefix to the crash handler. */
#ifndef CALL_WATCH_H
#define CALL_WATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Records a call as begun: `plugin` (an id, or "" when the code is not a plugin with an id),
   `library` (the file it came from) and `function` (e.g. "reward.score"). Strings are copied,
   truncated to fit. Returns a token for wb_watch_end. */
uint64_t wb_watch_begin(const char *plugin, const char *library, const char *function);

/* Ends the call `token` began; does nothing when another call has replaced it since. */
void wb_watch_end(uint64_t token);

/* The call in progress: returns its token (0 when none) and copies its fields (NUL-terminated,
   truncated to the capacities) and its start on CLOCK_MONOTONIC in nanoseconds. */
uint64_t wb_watch_current(uint64_t *started_ns, char *plugin, size_t plugin_capacity,
                          char *library, size_t library_capacity, char *function, size_t function_capacity);

/* CLOCK_MONOTONIC in nanoseconds, the clock wb_watch_current reports starts on. */
uint64_t wb_watch_now_ns(void);

/* Installs, once per process, a handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP
   that, when a call is in progress, writes one line to stderr:
       <prefix>: crashed (SIGSEGV) inside plugin <id> (<library>), function <function>
   then hands the signal to the handler installed before it (the Swift runtime's backtracer, which
   prints the frames) and writes the line again after them, so it is the last line printed; then
   the signal ends the process as it would have (the exit status stays the signal). Uses an
   alternate signal stack on the calling thread, so a stack overflow inside a plugin is caught too.
   Returns 0, or errno. */
int wb_watch_install_crash_handler(const char *prefix);

/* Async-signal-safe: when a call is in progress, writes `before`, "plugin <id> (<library>),
   function <function>" and `after` to `fd` and returns 1; otherwise writes nothing, returns 0. */
int wb_watch_write_current(int fd, const char *before, const char *after);

#ifdef __cplusplus
}
#endif

#endif
