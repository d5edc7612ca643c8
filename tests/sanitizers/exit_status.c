// exit_status.c — linked into every sanitized build (SANITIZE=...: frost, its tests, the stress
// programs): each sanitizer ends the process with an exit status of its own (exit_status.h). Their
// default, 1 (66 for ThreadSanitizer), is also frost's own error exit, so a test that expects "exit 1
// and a message" passed with a report in stderr.
//
// The sanitizers read these defaults before their environment variables (ASAN_OPTIONS and the others
// may still set exitcode). LeakSanitizer runs inside AddressSanitizer and shares its one exitcode
// option, so a leak is told apart by its summary line ("N byte(s) leaked in M allocation(s)"), noted
// as the runtime prints it, and the death callback ends the process with LeakSanitizer's status.
#include <sanitizer/common_interface_defs.h>
#include <string.h>
#include <unistd.h>

#include "exit_status.h"

#define SAN_STR(x) #x
#define SAN_STATUS(x) "exitcode=" SAN_STR(x)

// called by the runtimes before they are set up: nothing here may be instrumented
#define SAN_HOOK __attribute__((used, no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))

// allocator_may_return_null: an allocation too large for the memory left fails as it does without
// ASan (malloc returns NULL, libtorch throws, frost says so in a line) instead of ending the process.
// intercept_tls_get_addr=0: libtorch is loaded with dlopen, so its thread-locals live in dynamic TLS
// blocks; GCC 12's runtime takes a block whose address ends in a certain offset for one with a
// pre-2.25 glibc header and reads the words before it, and LeakSanitizer's tracer then died at
// exit ("Tracer caught signal 11", exit 81 with no leak found) in commands that had started
// libtorch's threads (summary, bench-forward), one run in a few.
SAN_HOOK const char *__asan_default_options(void) {
    return SAN_STATUS(SAN_EXIT_ASAN) ":allocator_may_return_null=1:intercept_tls_get_addr=0";
}
SAN_HOOK const char *__ubsan_default_options(void) { return SAN_STATUS(SAN_EXIT_UBSAN) ":halt_on_error=1"; }
SAN_HOOK const char *__tsan_default_options(void) { return SAN_STATUS(SAN_EXIT_TSAN); }

static volatile int leak_reported;

// Replaces the runtimes' own (a weak symbol), which prints the line.
SAN_HOOK void __sanitizer_report_error_summary(const char *summary) {
    if (strstr(summary, " leaked in ")) leak_reported = 1;
    if (write(STDERR_FILENO, summary, strlen(summary)) < 0 || write(STDERR_FILENO, "\n", 1) < 0) {
        // nowhere left to say it
    }
}

static void on_death(void) {
    if (leak_reported) _exit(SAN_EXIT_LSAN);
}

__attribute__((constructor)) static void set_death_callback(void) { __sanitizer_set_death_callback(on_death); }
