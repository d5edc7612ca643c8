// test_sanitizer_reports.c — in a sanitized build a sanitizer's report cannot pass for one of frost's
// own error exits: each sanitizer ends the process with an exit status of its own, never 1 or 2
// (tests/sanitizers/exit_status.c), and the helpers that run frost find the report in its stderr
// whatever the status (tu_sanitizer_report). Each case is a process that says "frost: ..." as a
// command that fails does, then runs into the sanitizer, then would exit 1.
#define _GNU_SOURCE   // RTLD_DEFAULT
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sanitizers/exit_status.h"
#include "testutil.h"

#define SAID "frost: weights.pth: refuses global os.system\n"

static void run_defect(const char *defect);

// In a child: says SAID on stderr, runs into the defect, then would exit 1. For a data race the child
// starts this test program afresh with FROST_TEST_DEFECT=thread (run_defect_when_asked): under
// ThreadSanitizer a forked child of a threaded process may start no thread.
static void child(const void *defect) {
    if (strcmp(defect, "thread") != 0) run_defect(defect);
    setenv("FROST_TEST_DEFECT", defect, 1);
    execl("/proc/self/exe", "frost_tests", "--list", (char *)NULL);
    _exit(127);
}

static void expect_report(int status, const char *err, int want, const char *report) {
    cr_expect_eq(status, want, "exit %d, not the sanitizer's %d:\n%s", status, want, err ? err : "");
    cr_expect(err && strncmp(err, SAID, strlen(SAID)) == 0, "what it said first:\n%s", err ? err : "");
    const char *at = tu_sanitizer_report(err);
    cr_expect(at && strstr(at, report), "the helpers find the report ('%s'):\n%s", report, err ? err : "");
}

static void *volatile sink;

static void heap_use_after_free(void) {
    char *volatile p = malloc(64);   // volatile: the compiler's own use-after-free warning stays out
    free(p);
    sink = (void *)(intptr_t)((volatile char *)p)[8];
}

static void signed_overflow(void) {
    volatile int big = INT_MAX;
    big += 1;
}

static int shared;   // written by two threads without a lock: a data race

static void *bump(void *arg) {
    shared++;
    return arg;
}

static void data_race(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, bump, NULL) != 0) return;
    shared++;
    pthread_join(t, NULL);
}

// What a failing command says, the defect, then exit 1.
static void run_defect(const char *defect) {
    fputs(SAID, stderr);
    fflush(stderr);
    if (strcmp(defect, "address") == 0) heap_use_after_free();
    if (strcmp(defect, "undefined") == 0) signed_overflow();
    if (strcmp(defect, "thread") == 0) data_race();
    _exit(1);
}

// In the program child() starts afresh, before Criterion does anything.
__attribute__((constructor)) static void run_defect_when_asked(void) {
    const char *defect = getenv("FROST_TEST_DEFECT");
    if (defect) run_defect(defect);
}

Test(sanitizer_reports, address_sanitizer) {
#if !defined(__SANITIZE_ADDRESS__)
    cr_skip_test("built without AddressSanitizer");
#else
    char *err = NULL;
    int status = tu_child_stderr(child, "address", &err);
    expect_report(status, err, SAN_EXIT_ASAN, "ERROR: AddressSanitizer: heap-use-after-free");
    free(err);
#endif
}

// UBSan halts at the first error (-fno-sanitize-recover=undefined) with its own status.
Test(sanitizer_reports, undefined_behavior_sanitizer) {
    if (!dlsym(RTLD_DEFAULT, "__ubsan_handle_add_overflow_abort")) cr_skip_test("built without UBSan");
    char *err = NULL;
    int status = tu_child_stderr(child, "undefined", &err);
    expect_report(status, err, SAN_EXIT_UBSAN, ": runtime error: signed integer overflow");
    free(err);
}

Test(sanitizer_reports, thread_sanitizer) {
#if !defined(__SANITIZE_THREAD__)
    cr_skip_test("built without ThreadSanitizer");
#else
    char *err = NULL;
    int status = tu_child_stderr(child, "thread", &err);
    expect_report(status, err, SAN_EXIT_TSAN, "WARNING: ThreadSanitizer: data race");
    free(err);
#endif
}

// What is no report: frost's own messages, and the sanitizers' notes that are no error.
Test(sanitizer_reports, only_reports_count) {
    cr_expect_null(tu_sanitizer_report(NULL));
    cr_expect_null(tu_sanitizer_report(SAID));
    cr_expect_null(tu_sanitizer_report("==7==WARNING: AddressSanitizer failed to allocate 0x17000000 bytes\n" SAID));
    const char *ubsan = SAID "core/model/pickle.c:12:5: runtime error: load of misaligned address\n";
    cr_expect_eq(tu_sanitizer_report(ubsan), ubsan + strlen(SAID), "the report's first line");
    const char *leak = "\n==9==ERROR: LeakSanitizer: detected memory leaks\n";
    cr_expect_eq(tu_sanitizer_report(leak), leak + 1);
}
