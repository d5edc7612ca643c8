/*
 * gate_preload.c — a test's gate on frost's file opens (LD_PRELOAD=build/gate_preload.so): open(),
 * open64() and mkdtemp() of a path holding "frost-gate" wait while the file $FROST_TEST_GATE exists.
 *
 * The interface's tests hold a background job (a checkpoint being opened, an export being written)
 * at that point for as long as they like, so that what the screen does meanwhile is shown without
 * guessing how long the job takes: the job cannot end before the test removes the file. Every other
 * call goes straight to the C library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void wait_at_gate(const char *path) {
    const char *gate = getenv("FROST_TEST_GATE");
    if (!gate || !path || !strstr(path, "frost-gate")) return;
    while (access(gate, F_OK) == 0) nanosleep(&(struct timespec){0, 20000000}, NULL);
}

// The C library's open or open64 (name), past the gate; its mode is there only when it creates a file.
static int gated_open(const char *name, const char *path, int flags, va_list ap) {
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    wait_at_gate(path);
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int fd = gated_open("open", path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int fd = gated_open("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

char *mkdtemp(char *templ) {
    wait_at_gate(templ);
    char *(*real)(char *) = (char *(*)(char *))dlsym(RTLD_NEXT, "mkdtemp");
    return real(templ);
}
