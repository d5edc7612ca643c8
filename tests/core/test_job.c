// test_job.c — the one shape of background work (core/base/job.c): the work runs on its own thread, done
// turns 1 only when it has finished (and everything it wrote is visible then), cancel reaches the
// work, and stopping a job twice, or one that never started, is harmless.
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <unistd.h>

#include "job.h"

typedef struct {
    job base;
    atomic_int go;   // the owner lets the work finish
    int result;      // written by the work, read by the owner once done
    int saw_cancel;
} slow;

static void run(job *j) {
    slow *s = (slow *)j;
    while (!atomic_load(&s->go) && !job_cancelled(j)) usleep(1000);
    s->saw_cancel = job_cancelled(j);
    s->result = 42;
}

Test(job, done_only_when_the_work_has_finished) {
    slow s = {0};
    char err[128];
    cr_assert_eq(job_start(&s.base, run, "a test", err, sizeof err), 0, "%s", err);
    usleep(20000);
    cr_expect(!job_done(&s.base), "still waiting for go");
    atomic_store(&s.go, 1);
    for (int i = 0; i < 5000 && !job_done(&s.base); i++) usleep(1000);
    cr_assert(job_done(&s.base));
    cr_expect_eq(s.result, 42);
    cr_expect(!s.saw_cancel);
    job_stop(&s.base);
    job_stop(&s.base);   // twice: nothing left to join
    cr_expect(job_done(&s.base));
}

Test(job, cancel_reaches_the_work) {
    slow s = {0};
    char err[128];
    cr_assert_eq(job_start(&s.base, run, "a test", err, sizeof err), 0, "%s", err);
    job_cancel(&s.base);
    job_join(&s.base);
    cr_expect(job_done(&s.base));
    cr_expect(s.saw_cancel, "the work read the cancel flag");
    cr_expect_eq(s.result, 42);
}

Test(job, a_job_that_never_started) {
    slow s = {0};
    job_stop(&s.base);   // no thread to join
    cr_expect(job_done(&s.base));
}

// The invariants written as assert() (the loader's ring, the jobs, the interface's list) hold only
// where asserts are compiled in: the tests and the sanitized builds must never define NDEBUG.
Test(job, asserts_are_compiled_in) {
#ifdef NDEBUG
    cr_assert_fail("NDEBUG is defined: the invariants' asserts are off");
#endif
    cr_expect(1);
}
