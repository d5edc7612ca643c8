// test_atomic_file.c — core/base/atomic_file: a whole file written atomically (mode kept, no temporary
// left, a failure leaving the old file), and the one rule every writer keeps: a device node, a FIFO,
// a symbolic link or a socket where the file should go is refused in one line and left as it was,
// by the atomic write, the in-place opener (logs, journal, downloads) and the check made before work.
// The writers themselves are tested where they live (test_write_targets.c for the commands, and the
// feature cache, download and calibration tests).
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fixtures.h"
#include "testutil.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(atomic_file, .init = setup, .fini = teardown);

static void expect_one_line(const char *err, const char *path, const char *kind) {
    cr_expect(strstr(err, path) && strstr(err, kind) && strstr(err, "not a regular file") && !strchr(err, '\n'),
              "one line naming %s as %s: '%s'", path, kind, err);
}

Test(atomic_file, writes_whole_keeps_the_mode_and_leaves_no_temporary) {
    const char *path = fx_at(dir, "f.bin");
    char err[512];
    cr_assert_eq(atomic_file_write(path, "first", 5, err, sizeof err), 0, "%s", err);
    fx_expect_file_is(path, (const unsigned char *)"first", 5);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644, "a new file is 0644");
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(atomic_file_write(path, "second!", 7, err, sizeof err), 0, "%s", err);
    fx_expect_file_is(path, (const unsigned char *)"second!", 7);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "a replaced file keeps its mode");

    // not replacing: a link into place, refused when the file is there, the old bytes kept
    atomic_file f;
    cr_assert_eq(atomic_file_open(&f, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(atomic_file_write_all(f.fd, "third", 5), 0);
    cr_expect_eq(atomic_file_commit(&f, 0, err, sizeof err), -1);
    cr_expect(strstr(err, "already exists"), "%s", err);
    fx_expect_file_is(path, (const unsigned char *)"second!", 7);

    // an abandoned write leaves the old file, and nothing else
    FILE *s = atomic_file_open_stream(&f, path, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    fputs("half", s);
    atomic_file_abort(&f);
    fx_expect_file_is(path, (const unsigned char *)"second!", 7);
    // (fx_expect_special's check for temporaries, on a plain FIFO beside it)
    cr_assert_eq(fx_make_special(fx_at(dir, "p"), FX_FIFO), 0);
    fx_expect_special(fx_at(dir, "p"), FX_FIFO, "abort");
}

// Each kind, each way in: refused in one line naming the path and what it is, nothing changed.
Test(atomic_file, refuses_what_is_not_a_regular_file) {
    for (int k = 0; k < FX_SPECIALS; k++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%d/target", dir, k);
        if (fx_make_special(path, (fx_special)k) != 0) continue;
        const char *kind = fx_special_name[k];
        char err[512] = "";
        cr_expect_eq(atomic_file_check(path, err, sizeof err), -1, "%s: checked", kind);
        expect_one_line(err, path, kind);
        err[0] = '\0';
        cr_expect_eq(atomic_file_write(path, "new", 3, err, sizeof err), -1, "%s: written", kind);
        expect_one_line(err, path, kind);
        err[0] = '\0';
        atomic_file f;
        cr_expect_eq(atomic_file_open(&f, path, err, sizeof err), -1, "%s: opened", kind);
        expect_one_line(err, path, kind);
        err[0] = '\0';
        int fd = atomic_file_open_in_place(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, err, sizeof err);
        cr_expect_lt(fd, 0, "%s: opened in place", kind);
        if (fd >= 0) close(fd);
        expect_one_line(err, path, kind);
        // a file written elsewhere is not renamed over it either
        const char *other = fx_at(dir, "other");
        cr_assert_eq(tu_write_file(other, "x", 1), 0);
        err[0] = '\0';
        cr_expect_eq(atomic_file_rename(other, path, err, sizeof err), -1, "%s: renamed over", kind);
        expect_one_line(err, path, kind);
        cr_expect(fx_exists(other), "the file stays where it was");
        unlink(other);
        fx_expect_special(path, (fx_special)k, kind);
    }
    // a folder: the same
    char err[512] = "";
    cr_expect_eq(atomic_file_write(dir, "new", 3, err, sizeof err), -1);
    cr_expect(strstr(err, "a folder, not a regular file"), "%s", err);
}

// The in-place opener: a missing file is created, an existing one emptied only with O_TRUNC.
Test(atomic_file, opens_a_regular_file_in_place) {
    const char *path = fx_at(dir, "log");
    char err[512];
    int fd = atomic_file_open_in_place(path, O_WRONLY | O_CREAT | O_APPEND, 0644, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    cr_assert_eq(atomic_file_write_all(fd, "ab", 2), 0);
    close(fd);
    fd = atomic_file_open_in_place(path, O_WRONLY | O_APPEND, 0644, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    cr_assert_eq(atomic_file_write_all(fd, "c", 1), 0);
    close(fd);
    fx_expect_file_is(path, (const unsigned char *)"abc", 3);
    fd = atomic_file_open_in_place(path, O_WRONLY | O_TRUNC, 0644, err, sizeof err);
    cr_assert_geq(fd, 0, "%s", err);
    close(fd);
    fx_expect_file_is(path, (const unsigned char *)"", 0);
    cr_expect_lt(atomic_file_open_in_place(fx_at(dir, "none/log"), O_WRONLY | O_CREAT, 0644, err, sizeof err), 0);
    cr_expect(strstr(err, "none/log") && strstr(err, "No such file"), "%s", err);
}
