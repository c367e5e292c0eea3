#define _GNU_SOURCE
#include "call_watch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The record. Writers (begin/end) and the watchdog's reads take the mutex; the signal handlers
   read without it (a lock there could deadlock), so they may at worst see a half-copied name,
   never overrun a buffer: every buffer keeps its last byte NUL. */
static char plugin_name[256];
static char library_name[1024];
static char function_name[128];
static _Atomic uint64_t current_token;
static _Atomic uint64_t started;
static uint64_t last_token;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void copy(char *to, size_t capacity, const char *from) {
    size_t n = from ? strlen(from) : 0;
    if (n >= capacity) n = capacity - 1;
    if (n) memcpy(to, from, n);
    to[n] = 0;
}

uint64_t wb_watch_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t wb_watch_begin(const char *plugin, const char *library, const char *function) {
    pthread_mutex_lock(&lock);
    atomic_store(&current_token, 0);
    copy(plugin_name, sizeof plugin_name, plugin);
    copy(library_name, sizeof library_name, library);
    copy(function_name, sizeof function_name, function);
    atomic_store(&started, wb_watch_now_ns());
    uint64_t token = ++last_token;
    atomic_store(&current_token, token);
    pthread_mutex_unlock(&lock);
    return token;
}

void wb_watch_end(uint64_t token) {
    pthread_mutex_lock(&lock);
    if (atomic_load(&current_token) == token) atomic_store(&current_token, 0);
    pthread_mutex_unlock(&lock);
}

uint64_t wb_watch_current(uint64_t *started_ns, char *plugin, size_t plugin_capacity,
                          char *library, size_t library_capacity, char *function, size_t function_capacity) {
    pthread_mutex_lock(&lock);
    uint64_t token = atomic_load(&current_token);
    if (token) {
        if (started_ns) *started_ns = atomic_load(&started);
        if (plugin && plugin_capacity) copy(plugin, plugin_capacity, plugin_name);
        if (library && library_capacity) copy(library, library_capacity, library_name);
        if (function && function_capacity) copy(function, function_capacity, function_name);
    }
    pthread_mutex_unlock(&lock);
    return token;
}

/* ---- async-signal-safe output ---- */

static void put(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void put_current(int fd) {
    if (plugin_name[0]) {
        put(fd, "plugin ");
        put(fd, plugin_name);
        put(fd, " (");
        put(fd, library_name);
        put(fd, ")");
    } else {
        put(fd, library_name);
    }
    put(fd, ", function ");
    put(fd, function_name);
}

int wb_watch_write_current(int fd, const char *before, const char *after) {
    if (atomic_load(&current_token) == 0) return 0;
    if (before) put(fd, before);
    put_current(fd);
    if (after) put(fd, after);
    return 1;
}

/* ---- the crash handler ---- */

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define CRASH_SIGNAL_COUNT (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction previous[NSIG];
static char prefix_text[64] = "crashed";
static atomic_int installed;

static const char *signal_text(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    default: return "a signal";
    }
}

static void put_crash_line(int sig) {
    put(STDERR_FILENO, prefix_text);
    put(STDERR_FILENO, ": crashed (");
    put(STDERR_FILENO, signal_text(sig));
    put(STDERR_FILENO, ") inside ");
    put_current(STDERR_FILENO);
    put(STDERR_FILENO, "\n");
}

static void crash_handler(int sig, siginfo_t *info, void *context) {
    int saved = errno;
    int inside = atomic_load(&current_token) != 0;
    /* First, in case the next handler never returns. */
    if (inside) {
        put(STDERR_FILENO, "\n");
        put_crash_line(sig);
    }
    /* The handler that was there before (the Swift runtime's backtracer prints the frames). */
    struct sigaction *old = (sig > 0 && sig < NSIG) ? &previous[sig] : NULL;
    int chained = 0;
    if (old) {
        sigaction(sig, old, NULL);
        if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
            old->sa_sigaction(sig, info, context);
            chained = 1;
        } else if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
            old->sa_handler(sig);
            chained = 1;
        }
    }
    /* Again after the frames, so the line naming the plugin is the last one printed. */
    if (inside && chained) put_crash_line(sig);
    /* Then the signal ends the process, so the exit status stays the signal. */
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(sig, &fallback, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    errno = saved;
}

int wb_watch_install_crash_handler(const char *prefix) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return 0;
    if (prefix) copy(prefix_text, sizeof prefix_text, prefix);
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && (current.ss_sp == NULL || (current.ss_flags & SS_DISABLE))) {
        /* Room for the handler and for the handler it passes the signal to. */
        size_t size = 64 * 1024;
        stack_t stack = {.ss_sp = malloc(size), .ss_flags = 0, .ss_size = size};
        if (stack.ss_sp) sigaltstack(&stack, NULL);
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = crash_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < CRASH_SIGNAL_COUNT; i++) {
        int sig = crash_signals[i];
        if (sigaction(sig, &action, &previous[sig]) != 0) return errno;
    }
    return 0;
}
