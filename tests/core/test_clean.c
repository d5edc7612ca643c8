// test_clean.c — relabelling and setting aside images (core/data/clean.c): every move undone gives back the
// same bytes at the same path; a taken name gets a new one and the other file is untouched; the journal
// on disk is the whole history (undo after a restart, repeated undos); one-line refusals that change
// nothing (outside the dataset, unknown class, missing file, a dataset user nobody cannot write); a torn
// last journal line is ignored and cut off, a broken middle line is an error; a move across file
// systems (a tmpfs mounted on ROOT/.frost-set-aside, else a symbolic link to /dev/shm when that is
// another file system) copies, syncs and then unlinks; every state a killed move can leave is settled;
// and a process doing moves and undos killed with SIGKILL 50 times at random moments never loses or
// doubles a file.
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clean.h"
#include "dataset.h"
#include "fixtures.h"
#include "path.h"
#include "testutil.h"

static char *root;
static char set_aside_mount[1200];   // a tmpfs mounted there by a test, unmounted by teardown
static char set_aside_shm[64];       // or the /dev/shm folder it links to, removed by teardown

static void setup(void) {
    root = tu_tmpdir();
    set_aside_mount[0] = '\0';
    set_aside_shm[0] = '\0';
}

static void teardown(void) {
    if (set_aside_mount[0]) tu_small_disk_end(set_aside_mount);
    if (set_aside_shm[0]) tu_rmtree(set_aside_shm);
    tu_rmtree(root);
    free(root);
}

TestSuite(clean, .init = setup, .fini = teardown);

// ---------------------------------------------------------------------------------------------
// helpers

// root + "/" + rel in a buffer of the caller's.
static const char *at(char *buf, size_t len, const char *rel) {
    snprintf(buf, len, "%s/%s", root, rel);
    return buf;
}

// A file of n bytes that no other file holds (its name and a pattern from seed), its folders made.
static void unique_file(const char *rel, size_t n, unsigned seed) {
    unsigned char *b = fx_random_bytes(n, seed);
    int w = snprintf((char *)b, n, "%s#%u#", rel, seed);
    (void)w;
    char p[1200];
    at(p, sizeof p, rel);
    tu_mkdirs_for(p);
    cr_assert_eq(tu_write_file(p, b, n), 0, "cannot write %s", p);
    free(b);
}

// The bytes at rel (asserts it is there).
static char *bytes_of(const char *rel, size_t *len) {
    char p[1200];
    char *b = tu_read_file(at(p, sizeof p, rel), len);
    cr_assert_not_null(b, "%s is missing", rel);
    return b;
}

static int exists(const char *rel) {
    char p[1200];
    struct stat st;
    return lstat(at(p, sizeof p, rel), &st) == 0;
}

// rel holds exactly these bytes.
static void expect_bytes(const char *rel, const char *want, size_t n) {
    size_t len = 0;
    char *b = bytes_of(rel, &len);
    cr_expect(len == n && memcmp(b, want, n) == 0, "%s does not hold its old bytes (%zu vs %zu)", rel, len, n);
    free(b);
}

// err is one line.
static void expect_one_line(const char *err, const char *word) {
    cr_expect(err[0] && strchr(err, '\n') == NULL, "not one line: '%s'", err);
    cr_expect(strstr(err, word) != NULL, "'%s' lacks '%s'", err, word);
}

// The small dataset of most tests: train/cats c0..c2, train/dogs d0 d1, valid/cats v0, valid/dogs w0.
static void small_dataset(void) {
    const char *files[] = {"train/cats/c0.jpg", "train/cats/c1.jpg", "train/cats/c2.jpg", "train/dogs/d0.jpg",
                           "train/dogs/d1.jpg", "valid/cats/v0.jpg", "valid/dogs/w0.jpg"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) unique_file(files[i], 3000 + 1000 * i, 100 + i);
}

static size_t n_moves(void) {
    clean_entry *e = NULL;
    size_t n = 0;
    char err[1024];
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    clean_entries_free(e, n);
    return n;
}

// Appends text to the journal as it is.
static void journal_add(const char *text) {
    char p[1200];
    FILE *f = fopen(at(p, sizeof p, CLEAN_JOURNAL), "a");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

// A pending intent line, as a move killed after writing it leaves it.
static void journal_intent(long long id, const char *from, const char *to, const char *tmp, long long size) {
    char line[2048];
    snprintf(line, sizeof line,
             "{\"op\":\"move\",\"id\":%lld,\"kind\":\"relabel\",\"from\":\"%s\",\"to\":\"%s\",\"tmp\":\"%s\","
             "\"size\":%lld,\"time\":\"2026-11-30T07:22:59Z\"}\n",
             id, from, to, tmp, size);
    journal_add(line);
}

// Runs fn as user nobody in a child (the tests run as root, whom permissions do not stop): its return,
// with its err copied back. As is when not root.
static int as_nobody(int (*fn)(void *), void *arg, char *err, size_t errlen) {
    if (geteuid() != 0) return fn(arg);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        alarm(30);   // never outlives the test, whatever happens
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
        int r = fn(arg);
        if (write(fd[1], err, strlen(err) + 1) < 0) _exit(101);
        _exit(r + 1);   // -1, 0, 1 -> 0, 1, 2
    }
    close(fd[1]);
    ssize_t got = read(fd[0], err, errlen - 1);
    err[got > 0 ? got : 0] = '\0';
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) < 100, "the child could not become nobody (%d)", st);
    return WEXITSTATUS(st) - 1;
}

// ---------------------------------------------------------------------------------------------
// moves and undos

Test(clean, relabel_then_undo_gives_the_same_bytes_back) {
    small_dataset();
    size_t n0;
    char *before = bytes_of("train/cats/c0.jpg", &n0), err[1024] = "", what[1024] = "", p[1200];
    char *moved = NULL;
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", &moved, err, sizeof err), 0, "%s",
                 err);
    cr_expect_str_eq(moved, at(p, sizeof p, "train/dogs/c0.jpg"));
    free(moved);
    cr_expect(!exists("train/cats/c0.jpg"));
    expect_bytes("train/dogs/c0.jpg", before, n0);

    clean_entry *e = NULL;
    size_t n = 0;
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1);
    cr_expect_eq(e[0].kind, CLEAN_RELABEL);
    cr_expect_str_eq(e[0].from, "train/cats/c0.jpg");
    cr_expect_str_eq(e[0].to, "train/dogs/c0.jpg");
    cr_expect(e[0].time > time(NULL) - 60 && e[0].time <= time(NULL), "time %lld", e[0].time);
    cr_expect_eq(e[0].undone, 0);
    clean_entries_free(e, n);

    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "relabel train/cats/c0.jpg -> train/dogs/c0.jpg");
    cr_expect(!exists("train/dogs/c0.jpg"));
    expect_bytes("train/cats/c0.jpg", before, n0);
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1, "an undo is no move of its own");
    cr_expect_eq(e[0].undone, 1);
    clean_entries_free(e, n);
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), 0, "nothing left: %s", err);
    free(before);
}

Test(clean, set_aside_leaves_the_dataset_and_undo_brings_it_back) {
    small_dataset();
    size_t n0;
    char *before = bytes_of("train/dogs/d1.jpg", &n0), err[1024] = "", what[1024] = "", p[1200], *moved = NULL;
    // relative to the working folder
    cr_assert_eq(chdir(root), 0);
    cr_assert_eq(clean_set_aside(".", "train/dogs/d1.jpg", &moved, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(moved, "./" CLEAN_SET_ASIDE_DIR "/train/dogs/d1.jpg");
    free(moved);
    expect_bytes(CLEAN_SET_ASIDE_DIR "/train/dogs/d1.jpg", before, n0);
    cr_expect(!exists("train/dogs/d1.jpg"));

    // the scanner sees neither the set-aside folder nor the journal
    dataset d;
    cr_assert_eq(dataset_scan(&d, root, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.n_classes, 2);
    cr_expect_eq(d.train.n_items, 4);
    cr_expect_eq(d.train.class_counts[1], 1, "one dog left in train");
    for (size_t i = 0; i < d.train.n_items; i++)
        cr_expect(strstr(d.train.items[i].path, CLEAN_SET_ASIDE_DIR) == NULL, "%s", d.train.items[i].path);
    dataset_free(&d);

    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "set aside train/dogs/d1.jpg -> " CLEAN_SET_ASIDE_DIR "/train/dogs/d1.jpg");
    expect_bytes("train/dogs/d1.jpg", before, n0);
    cr_expect(!exists(CLEAN_SET_ASIDE_DIR "/train/dogs/d1.jpg"));
    (void)p;
    free(before);
}

Test(clean, a_taken_name_gets_a_new_one) {
    small_dataset();
    unique_file("train/dogs/c0.jpg", 500, 7);   // another file of the same name in the target class
    unique_file("train/cats/cat.12.jpg", 600, 8);
    unique_file("train/dogs/cat.12.jpg", 700, 9);
    unique_file("train/dogs/cat.12 (2).jpg", 800, 10);
    size_t n_other, n_c0, n_cat;
    char *other = bytes_of("train/dogs/c0.jpg", &n_other), *c0 = bytes_of("train/cats/c0.jpg", &n_c0),
         *cat = bytes_of("train/cats/cat.12.jpg", &n_cat), err[1024] = "", what[1024], p[1200], *moved = NULL;
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", &moved, err, sizeof err), 0, "%s",
                 err);
    cr_expect_str_eq(moved, at(p, sizeof p, "train/dogs/c0 (2).jpg"));
    free(moved);
    expect_bytes("train/dogs/c0.jpg", other, n_other);
    expect_bytes("train/dogs/c0 (2).jpg", c0, n_c0);
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/cat.12.jpg"), "dogs", &moved, err, sizeof err), 0,
                 "%s", err);
    cr_expect_str_eq(moved, at(p, sizeof p, "train/dogs/cat.12 (3).jpg"));
    free(moved);
    expect_bytes("train/dogs/cat.12 (3).jpg", cat, n_cat);
    // set aside twice under one name: an image of a folder inside the class goes to the same folder
    unique_file("train/cats/sub/c1.jpg", 900, 11);
    size_t n_c1, n_sub;
    char *c1 = bytes_of("train/cats/c1.jpg", &n_c1), *sub = bytes_of("train/cats/sub/c1.jpg", &n_sub);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "train/cats/c1.jpg"), NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "train/cats/sub/c1.jpg"), &moved, err, sizeof err), 0, "%s",
                 err);
    cr_expect_str_eq(moved, at(p, sizeof p, CLEAN_SET_ASIDE_DIR "/train/cats/c1 (2).jpg"));
    free(moved);
    expect_bytes(CLEAN_SET_ASIDE_DIR "/train/cats/c1.jpg", c1, n_c1);
    expect_bytes(CLEAN_SET_ASIDE_DIR "/train/cats/c1 (2).jpg", sub, n_sub);
    // and back: every undo to its own old path
    for (int k = 0; k < 4; k++) cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    expect_bytes("train/dogs/c0.jpg", other, n_other);
    expect_bytes("train/cats/cat.12.jpg", cat, n_cat);
    expect_bytes("train/cats/c0.jpg", c0, n_c0);
    expect_bytes("train/cats/c1.jpg", c1, n_c1);
    expect_bytes("train/cats/sub/c1.jpg", sub, n_sub);
    cr_expect(!exists("train/dogs/c0 (2).jpg") && !exists("train/dogs/cat.12 (3).jpg"));
    free(other), free(c0), free(cat), free(c1), free(sub);
}

// Each call reads the journal from disk: a fresh process (here: a child) undoes what another did, and
// undos walk back through the whole history, newest first.
Test(clean, undo_walks_back_the_history_across_processes) {
    small_dataset();
    const char *files[] = {"train/cats/c0.jpg", "train/cats/c1.jpg", "valid/dogs/w0.jpg"};
    char *old[3], err[1024] = "", what[1024], p[1200];
    size_t len[3];
    for (int i = 0; i < 3; i++) old[i] = bytes_of(files[i], &len[i]);
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, files[0]), "dogs", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, files[1]), NULL, err, sizeof err), 0, "%s", err);
    // the relabelled file relabelled again, back and forth
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/dogs/c0.jpg"), "cats", NULL, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, files[2]), "cats", NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(n_moves(), 4);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        alarm(30);
        char e2[1024], w2[1024];
        _exit(clean_undo(root, w2, sizeof w2, e2, sizeof e2) == 1 && strstr(w2, "valid/dogs/w0.jpg") ? 0 : 1);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's undo failed");
    expect_bytes(files[2], old[2], len[2]);

    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "relabel train/dogs/c0.jpg -> train/cats/c0.jpg");
    cr_expect(exists("train/dogs/c0.jpg"));
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "set aside train/cats/c1.jpg -> " CLEAN_SET_ASIDE_DIR "/train/cats/c1.jpg");
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "relabel train/cats/c0.jpg -> train/dogs/c0.jpg");
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 3; i++) {
        expect_bytes(files[i], old[i], len[i]);
        free(old[i]);
    }
    clean_entry *e = NULL;
    size_t n = 0;
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++) cr_expect_eq(e[i].undone, 1, "move %zu not undone", i);
    cr_expect_eq(e[1].kind, CLEAN_SET_ASIDE);
    cr_expect_str_eq(e[2].from, "train/dogs/c0.jpg");
    clean_entries_free(e, n);
}

Test(clean, undo_refuses_a_taken_old_path_and_a_gone_file) {
    small_dataset();
    char err[1024] = "", what[1024], p[1200];
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", NULL, err, sizeof err), 0, "%s",
                 err);
    unique_file("train/cats/c0.jpg", 100, 55);   // a new file where the old one was
    size_t n_new, n_moved;
    char *fresh = bytes_of("train/cats/c0.jpg", &n_new), *moved = bytes_of("train/dogs/c0.jpg", &n_moved);
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), -1);
    expect_one_line(err, "taken");
    expect_bytes("train/cats/c0.jpg", fresh, n_new);
    expect_bytes("train/dogs/c0.jpg", moved, n_moved);
    // the moved file gone
    cr_assert_eq(remove(at(p, sizeof p, "train/cats/c0.jpg")), 0);
    cr_assert_eq(rename(at(p, sizeof p, "train/dogs/c0.jpg"), fx_at(root, "elsewhere.bin")), 0);
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), -1);
    expect_one_line(err, "gone");
    cr_expect(!exists("train/cats/c0.jpg"));
    free(fresh), free(moved);
}

// A dataset of class folders only (split by fraction): no split folder in the paths.
Test(clean, a_root_of_class_folders_only) {
    unique_file("cats/a.jpg", 1000, 1);
    unique_file("cats/b.jpg", 1000, 2);
    unique_file("dogs/c.jpg", 1000, 3);
    size_t na, nb;
    char *a = bytes_of("cats/a.jpg", &na), *b = bytes_of("cats/b.jpg", &nb), err[1024] = "", what[1024], p[1200];
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "cats/a.jpg"), "dogs", NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "cats/b.jpg"), NULL, err, sizeof err), 0, "%s", err);
    expect_bytes("dogs/a.jpg", a, na);
    expect_bytes(CLEAN_SET_ASIDE_DIR "/cats/b.jpg", b, nb);
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(what, "set aside cats/b.jpg -> " CLEAN_SET_ASIDE_DIR "/cats/b.jpg");
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    expect_bytes("cats/a.jpg", a, na);
    expect_bytes("cats/b.jpg", b, nb);
    free(a), free(b);
}

// ---------------------------------------------------------------------------------------------
// refusals

Test(clean, refusals_are_one_line_and_change_nothing) {
    small_dataset();
    char *outside = tu_tmpdir(), err[1024], p[1200], o[1200];
    snprintf(o, sizeof o, "%s/x.jpg", outside);
    cr_assert_eq(tu_write_file(o, "x", 1), 0);
    struct {
        int (*call)(const char *path, const char *cls, char *err);
        const char *path, *cls, *word;
    } cases[] = {
        {NULL, o, "dogs", "not inside the dataset"},
        {NULL, "train/cats/c0.jpg", "zebra", "no class 'zebra'"},
        {NULL, "train/cats/c0.jpg", "../dogs", "not a class name"},
        {NULL, "train/cats/c0.jpg", "cats", "already in class 'cats'"},
        {NULL, "train/cats/nope.jpg", "dogs", "No such file"},
        {NULL, "nowhere/cats/c0.jpg", "dogs", "No such file"},
        {NULL, "train/cats", "dogs", "not a file"},
        {NULL, "train/c.jpg", "dogs", "not in a class folder"},
    };
    unique_file("train/c.jpg", 10, 3);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = cases[i].path[0] == '/' ? cases[i].path : at(p, sizeof p, cases[i].path);
        err[0] = '\0';
        char *moved = (char *)"untouched";
        cr_expect_eq(clean_relabel(root, path, cases[i].cls, &moved, err, sizeof err), -1, "case %zu moved", i);
        cr_expect_null(moved, "case %zu", i);
        expect_one_line(err, cases[i].word);
    }
    err[0] = '\0';
    cr_expect_eq(clean_set_aside(root, o, NULL, err, sizeof err), -1);
    expect_one_line(err, "not inside the dataset");
    // a file already set aside is in a hidden folder: not an image of the dataset
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "train/cats/c0.jpg"), NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(
        clean_set_aside(root, at(p, sizeof p, CLEAN_SET_ASIDE_DIR "/train/cats/c0.jpg"), NULL, err, sizeof err), -1);
    expect_one_line(err, "hidden");
    cr_expect_eq(
        clean_relabel(fx_at(root, "missing"), at(p, sizeof p, "train/cats/c1.jpg"), "dogs", NULL, err, sizeof err), -1);
    expect_one_line(err, "No such file");
    // a name that is not UTF-8 cannot be journalled
    unique_file("train/cats/bad\xff.jpg", 20, 4);
    cr_expect_eq(clean_relabel(root, at(p, sizeof p, "train/cats/bad\xff.jpg"), "dogs", NULL, err, sizeof err), -1);
    expect_one_line(err, "not UTF-8");
    cr_expect(exists("train/cats/bad\xff.jpg"));
    cr_expect_eq(n_moves(), 1, "only the one set-aside was journalled");
    cr_expect(exists("train/cats/c1.jpg") && exists("train/cats/c2.jpg") && exists("train/dogs/d0.jpg"));
    tu_rmtree(outside);
    free(outside);
}

static int relabel_c0(void *arg) {
    char *err = arg, p[1200];
    return clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", NULL, err, 1024);
}
static int set_aside_c1(void *arg) {
    char *err = arg, p[1200];
    return clean_set_aside(root, at(p, sizeof p, "train/cats/c1.jpg"), NULL, err, 1024);
}
static int undo(void *arg) {
    char what[1024];
    return clean_undo(root, what, sizeof what, arg, 1024);
}
static int list_count(void *arg) {
    clean_entry *e;
    size_t n;
    int rc = clean_list(root, &e, &n, arg, 1024);
    clean_entries_free(e, n);
    return rc == 0 ? (int)n : -1;
}

// A folder the user cannot write (user nobody, as root cannot be refused): one line, nothing changes,
// and the journal is still read.
Test(clean, a_dataset_that_cannot_be_written_is_refused) {
    small_dataset();
    cr_assert_eq(chmod(root, 0755), 0);   // nobody must reach the dataset to be refused by it
    char err[1024] = "", journal[1200];
    at(journal, sizeof journal, CLEAN_JOURNAL);
    cr_expect_eq(as_nobody(relabel_c0, err, err, sizeof err), -1, "accepted: %s", err);
    expect_one_line(err, "cannot be written");
    cr_expect(!fx_exists(journal), "no journal was made");
    err[0] = '\0';
    cr_expect_eq(as_nobody(set_aside_c1, err, err, sizeof err), -1, "accepted: %s", err);
    expect_one_line(err, "cannot be written");
    cr_expect(!exists(CLEAN_SET_ASIDE_DIR), "no folder was made");
    cr_expect(exists("train/cats/c0.jpg") && exists("train/cats/c1.jpg"));

    // with a journal of one move: nobody lists it, cannot undo it
    char p[1200];
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c2.jpg"), "dogs", NULL, err, sizeof err), 0, "%s",
                 err);
    size_t jn = 0;
    char *jbefore = tu_read_file(journal, &jn);
    cr_expect_eq(as_nobody(list_count, err, err, sizeof err), 1, "nobody reads the journal: %s", err);
    err[0] = '\0';
    cr_expect_eq(as_nobody(undo, err, err, sizeof err), -1, "undone: %s", err);
    expect_one_line(err, "cannot be written");
    cr_expect(exists("train/dogs/c2.jpg") && !exists("train/cats/c2.jpg"));
    size_t jn2 = 0;
    char *jafter = tu_read_file(journal, &jn2);
    cr_expect(jn == jn2 && memcmp(jbefore, jafter, jn) == 0, "the journal is unchanged");
    free(jbefore), free(jafter);
}

// ---------------------------------------------------------------------------------------------
// the journal

Test(clean, a_torn_last_line_is_ignored_and_cut_off) {
    small_dataset();
    char err[1024] = "", p[1200];
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", NULL, err, sizeof err), 0, "%s",
                 err);
    journal_add("{\"op\":\"move\",\"id\":2,\"kind\":\"rel");   // a write killed half way
    cr_expect_eq(n_moves(), 1);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "train/cats/c1.jpg"), NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(n_moves(), 2);
    journal_add("not json at all\n");   // a whole line that is no entry, last
    cr_expect_eq(n_moves(), 2);
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c2.jpg"), "dogs", NULL, err, sizeof err), 0, "%s",
                 err);
    cr_expect_eq(n_moves(), 3);
    // every line of the journal is an entry now, each on its own line
    size_t len = 0;
    char *text = tu_read_file(at(p, sizeof p, CLEAN_JOURNAL), &len), *save = NULL;
    cr_assert_not_null(text);
    cr_expect(len > 0 && text[len - 1] == '\n');
    int lines = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_expect(json_is_object(o) && json_is_string(json_object_get(o, "op")), "line %d: %s", lines + 1, line);
        json_decref(o);
    }
    cr_expect_eq(lines, 6, "three intents and three done lines");
    free(text);
}

Test(clean, a_broken_middle_line_is_an_error) {
    small_dataset();
    char err[1024] = "", what[1024], p[1200];
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c0.jpg"), "dogs", NULL, err, sizeof err), 0, "%s",
                 err);
    // line 3 broken, line 4 good
    journal_add("{\"op\":\"done\",\"id\":\n");
    journal_add("{\"op\":\"move\",\"id\":7,\"kind\":\"relabel\",\"from\":\"a/b/c.jpg\",\"to\":\"a/d/c.jpg\","
                "\"tmp\":\"a/d/.frost-clean-7.tmp\",\"size\":1,\"time\":\"2026-11-30T07:22:59Z\"}\n");
    clean_entry *e = NULL;
    size_t n = 0;
    cr_expect_eq(clean_list(root, &e, &n, err, sizeof err), -1);
    expect_one_line(err, "line 3");
    cr_expect_eq(clean_relabel(root, at(p, sizeof p, "train/cats/c1.jpg"), "dogs", NULL, err, sizeof err), -1);
    expect_one_line(err, "line 3");
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), -1);
    cr_expect(exists("train/cats/c1.jpg") && exists("train/dogs/c0.jpg"), "nothing moved");
    // a journal entry that reaches outside ROOT is no entry either
    cr_assert_eq(truncate(at(p, sizeof p, CLEAN_JOURNAL), 0), 0);
    journal_add("{\"op\":\"move\",\"id\":1,\"kind\":\"relabel\",\"from\":\"../etc/passwd\",\"to\":\"a/b\","
                "\"tmp\":\"a/.t\",\"size\":1,\"time\":\"2026-11-30T07:22:59Z\"}\n{\"op\":\"done\",\"id\":1}\n");
    cr_expect_eq(clean_undo(root, what, sizeof what, err, sizeof err), -1);
    expect_one_line(err, "line 1");
    // nor one whose temporary (which recovery removes) names an image
    cr_assert_eq(truncate(at(p, sizeof p, CLEAN_JOURNAL), 0), 0);
    journal_intent(1, "train/cats/c1.jpg", "train/dogs/c1.jpg", "train/dogs/d0.jpg", 10);
    journal_add("{\"op\":\"done\",\"id\":1}\n");
    cr_expect_eq(clean_recover(root, err, sizeof err), -1);
    expect_one_line(err, "line 1");
    cr_expect(exists("train/dogs/d0.jpg"));
}

// ---------------------------------------------------------------------------------------------
// another file system

// ROOT/.frost-set-aside on another file system: a tmpfs mounted there, else a symbolic link to a folder
// in /dev/shm when that is another file system. 0, or -1 when neither can be had (the test skips).
static int set_aside_elsewhere(void) {
    char p[1200];
    at(p, sizeof p, CLEAN_SET_ASIDE_DIR);
    if (tu_small_disk(p, 64 << 20) == 0) {
        snprintf(set_aside_mount, sizeof set_aside_mount, "%s", p);
        return 0;
    }
    rmdir(p);
    char shm[] = "/dev/shm/frost-clean-XXXXXX";
    struct stat a, b;
    if (!mkdtemp(shm)) return -1;
    if (stat(shm, &a) != 0 || stat(root, &b) != 0 || a.st_dev == b.st_dev || symlink(shm, p) != 0) {
        rmdir(shm);
        return -1;
    }
    snprintf(set_aside_shm, sizeof set_aside_shm, "%s", shm);
    cr_log_info("no tmpfs could be mounted: %s is a link to %s", p, shm);
    return 0;
}

Test(clean, a_move_to_another_file_system_copies_then_unlinks) {
    small_dataset();
    unique_file("train/cats/big.jpg", 300000, 77);   // several copy chunks
    if (set_aside_elsewhere() != 0) cr_skip_test("neither a tmpfs nor a /dev/shm on another file system here");
    char p[1200], err[1024] = "", what[1024], *moved = NULL;
    struct stat src, dst;
    cr_assert_eq(chmod(at(p, sizeof p, "train/cats/big.jpg"), 0640), 0);
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, p, times, 0), 0);
    cr_assert_eq(stat(p, &src), 0);
    size_t n0;
    char *before = bytes_of("train/cats/big.jpg", &n0);
    cr_assert_eq(clean_set_aside(root, p, &moved, err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat(moved, &dst), 0);
    free(moved);
    cr_expect_neq(src.st_dev, dst.st_dev, "the file crossed to another file system");
    cr_expect_eq(dst.st_mode & 07777, 0640, "mode kept");
    cr_expect_eq(dst.st_mtim.tv_sec, 1234567890, "time kept");
    expect_bytes(CLEAN_SET_ASIDE_DIR "/train/cats/big.jpg", before, n0);
    cr_expect(!exists("train/cats/big.jpg"));
    // no temporary left in the target folder
    DIR *d = opendir(at(p, sizeof p, CLEAN_SET_ASIDE_DIR "/train/cats"));
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_expect(strncmp(e->d_name, ".frost-clean-", 13) != 0, "a temporary is left: %s", e->d_name);
    closedir(d);
    // a taken name across file systems, then back
    unique_file(CLEAN_SET_ASIDE_DIR "/train/cats/c0.jpg", 100, 78);
    cr_assert_eq(clean_set_aside(root, at(p, sizeof p, "train/cats/c0.jpg"), &moved, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(moved, at(p, sizeof p, CLEAN_SET_ASIDE_DIR "/train/cats/c0 (2).jpg"));
    free(moved);
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    cr_assert_eq(clean_undo(root, what, sizeof what, err, sizeof err), 1, "%s", err);
    expect_bytes("train/cats/big.jpg", before, n0);
    cr_assert_eq(stat(at(p, sizeof p, "train/cats/big.jpg"), &dst), 0);
    cr_expect_eq(dst.st_dev, src.st_dev);
    cr_expect(exists(CLEAN_SET_ASIDE_DIR "/train/cats/c0.jpg"), "the other file stays");
    free(before);
}

// ---------------------------------------------------------------------------------------------
// recovery: each state a move killed after its intent can leave

Test(clean, recovery_settles_every_interrupted_state) {
    small_dataset();
    char err[1024] = "", p[1200];
    size_t n_c0, n_c1, n_c2, n_d0;
    char *c0 = bytes_of("train/cats/c0.jpg", &n_c0), *c1 = bytes_of("train/cats/c1.jpg", &n_c1),
         *c2 = bytes_of("train/cats/c2.jpg", &n_c2), *d0 = bytes_of("train/dogs/d0.jpg", &n_d0);
    // 1: killed while copying: the source, and half a temporary in the target folder -> rolled back
    cr_assert_eq(tu_write_file(at(p, sizeof p, "train/dogs/.frost-clean-1.tmp"), c0, n_c0 / 2), 0);
    journal_intent(1, "train/cats/c0.jpg", "train/dogs/c0.jpg", "train/dogs/.frost-clean-1.tmp", (long long)n_c0);
    // 2: killed after the rename, before the done line -> completed
    cr_assert_eq(rename(at(p, sizeof p, "train/cats/c1.jpg"), fx_at(root, "train/dogs/c1.jpg")), 0);
    journal_intent(2, "train/cats/c1.jpg", "train/dogs/c1.jpg", "train/dogs/.frost-clean-2.tmp", (long long)n_c1);
    // 3: killed after a cross-file-system copy was put in place, before the unlink -> completed
    cr_assert_eq(tu_write_file(at(p, sizeof p, "train/dogs/c2.jpg"), c2, n_c2), 0);
    journal_intent(3, "train/cats/c2.jpg", "train/dogs/c2.jpg", "train/dogs/.frost-clean-3.tmp", (long long)n_c2);
    // 4: the target holds another file -> rolled back, both stay
    unique_file("train/cats/d0.jpg", 321, 99);
    size_t n_other;
    char *other = bytes_of("train/cats/d0.jpg", &n_other);
    journal_intent(4, "train/dogs/d0.jpg", "train/cats/d0.jpg", "train/cats/.frost-clean-4.tmp", (long long)n_d0);

    cr_expect_eq(clean_recover(root, err, sizeof err), 4, "%s", err);
    expect_bytes("train/cats/c0.jpg", c0, n_c0);
    cr_expect(!exists("train/dogs/c0.jpg") && !exists("train/dogs/.frost-clean-1.tmp"));
    expect_bytes("train/dogs/c1.jpg", c1, n_c1);
    cr_expect(!exists("train/cats/c1.jpg"));
    expect_bytes("train/dogs/c2.jpg", c2, n_c2);
    cr_expect(!exists("train/cats/c2.jpg"));
    expect_bytes("train/dogs/d0.jpg", d0, n_d0);
    expect_bytes("train/cats/d0.jpg", other, n_other);
    cr_expect_eq(clean_recover(root, err, sizeof err), 0, "settled once: %s", err);

    clean_entry *e = NULL;
    size_t n = 0;
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 2, "the two completed moves");
    cr_expect_eq(e[0].id, 2);
    cr_expect_eq(e[1].id, 3);
    clean_entries_free(e, n);
    // and the next move gets the next id
    cr_assert_eq(clean_relabel(root, at(p, sizeof p, "train/dogs/d1.jpg"), "cats", NULL, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 3);
    cr_expect_eq(e[2].id, 5);
    clean_entries_free(e, n);
    free(c0), free(c1), free(c2), free(d0), free(other);
}

// ---------------------------------------------------------------------------------------------
// kill -9 at random moments

enum { KILL_ROUNDS = 50, KILL_FILES = 18 };
static const char *const kill_classes[] = {"a", "b", "c"};

typedef struct {
    char *data;
    size_t len;
    int seen;
} original;
static original originals[KILL_FILES];
static int strays;
static char stray_name[1200];

// Counts every file below dir (not following links) against the originals; the rest are strays.
static void check_tree(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, CLEAN_JOURNAL) == 0)
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        cr_assert_eq(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            check_tree(path);
            continue;
        }
        size_t len = 0;
        char *b = S_ISREG(st.st_mode) ? tu_read_file(path, &len) : NULL;
        int found = 0;
        for (int i = 0; b && i < KILL_FILES && !found; i++)
            if (originals[i].len == len && memcmp(originals[i].data, b, len) == 0) originals[i].seen++, found = 1;
        if (!found && !(S_ISLNK(st.st_mode) && strcmp(e->d_name, CLEAN_SET_ASIDE_DIR) == 0)) {
            strays++;
            snprintf(stray_name, sizeof stray_name, "%s", path);
        }
        free(b);
    }
    closedir(d);
}

// How many temporaries (".frost-clean-*") are below dir.
static int count_tmps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_tmps(path);
        else
            n += strncmp(e->d_name, ".frost-clean-", 13) == 0;
    }
    closedir(d);
    return n;
}

// A random image of the dataset (its path), or NULL.
static char *pick_image(unsigned *seed, int set_aside) {
    char dir[1200];
    const char *cls = kill_classes[rand_r(seed) % 3];
    if (set_aside)
        snprintf(dir, sizeof dir, "%s/%s/train/%s", root, CLEAN_SET_ASIDE_DIR, cls);
    else
        snprintf(dir, sizeof dir, "%s/train/%s", root, cls);
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *names[64];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 64;)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    char *pick = NULL;
    if (n > 0) {
        int k = rand_r(seed) % n;
        pick = malloc(strlen(dir) + strlen(names[k]) + 2);
        sprintf(pick, "%s/%s", dir, names[k]);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    return pick;
}

// The child: says it has started (a byte on ready), then moves and undos until killed.
static void churn(unsigned seed, int ready) {
    alarm(20);   // never outlives the test
    char err[1024], what[1024];
    if (write(ready, "r", 1) != 1) _exit(1);
    for (int i = 0; i < 100000; i++) {
        int op = rand_r(&seed) % 4;
        char *img = pick_image(&seed, 0);
        if (op <= 1 && img) {
            const char *to = kill_classes[rand_r(&seed) % 3];
            clean_relabel(root, img, to, NULL, err, sizeof err);
        } else if (op == 2 && img) {
            clean_set_aside(root, img, NULL, err, sizeof err);
        } else {
            clean_undo(root, what, sizeof what, err, sizeof err);
        }
        free(img);
    }
    _exit(0);
}

Test(clean, kill_9_at_any_moment_loses_and_doubles_nothing, .timeout = 60) {
    for (int i = 0; i < KILL_FILES; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "train/%s/img%02d.jpg", kill_classes[i % 3], i);
        size_t n = 1000 + (size_t)(i * 7919 % 90000);   // 1 KB .. 90 KB: one to two copy chunks
        unique_file(rel, n, 1000 + (unsigned)i);
        originals[i].data = bytes_of(rel, &originals[i].len);
    }
    int elsewhere = set_aside_elsewhere() == 0;   // set-asides then copy across file systems
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    cr_log_info("kill -9 test: seed %u, set-aside folder on %s", seed,
                elsewhere ? "another file system" : "the same file system");
    int settled = 0, moves_seen = 0, tmps = 0;
    // 0 to 5 ms after the child's start; while no round has seen a move yet (a slow, loaded or
    // sanitized build), the bound doubles, up to 320 ms, so that kills also land inside moves
    long max_us = 5000;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        unsigned child_seed = seed + (unsigned)round * 7777u;
        int ready[2];
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) churn(child_seed, ready[1]);
        // the delay counts from the child's start, not from the fork (slow in a process this big)
        char byte;
        ssize_t got = read(ready[0], &byte, 1);
        long us = (long)(rand_r(&seed) % (unsigned)(max_us + 1));
        struct timespec delay = {us / 1000000, (us % 1000000) * 1000L};
        nanosleep(&delay, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);   // ended before any assertion below can stop the test
        close(ready[0]), close(ready[1]);
        cr_assert_eq(got, 1, "round %d: the child did not start", round);

        char err[1024] = "";
        tmps += count_tmps(root) + (set_aside_shm[0] ? count_tmps(set_aside_shm) : 0);
        int rc = clean_recover(root, err, sizeof err);
        cr_assert_geq(rc, 0, "round %d (seed %u): recovery failed: %s", round, seed, err);
        settled += rc;
        for (int i = 0; i < KILL_FILES; i++) originals[i].seen = 0;
        strays = 0;
        check_tree(root);
        if (set_aside_shm[0]) check_tree(set_aside_shm);
        cr_assert_eq(strays, 0, "round %d (seed %u): a file that is no original: %s", round, seed, stray_name);
        for (int i = 0; i < KILL_FILES; i++)
            cr_assert_eq(originals[i].seen, 1, "round %d (seed %u): original %d is in %d places", round, seed, i,
                         originals[i].seen);
        clean_entry *e = NULL;
        size_t n = 0;
        cr_assert_eq(clean_list(root, &e, &n, err, sizeof err), 0, "round %d: the journal does not read: %s", round,
                     err);
        if ((int)n > moves_seen) moves_seen = (int)n;
        if (moves_seen == 0 && max_us < 320000) max_us *= 2;
        clean_entries_free(e, n);
    }
    // what recovery did, from its journal lines
    char p[1200];
    size_t len = 0;
    char *text = tu_read_file(at(p, sizeof p, CLEAN_JOURNAL), &len), *save = NULL;
    int completed = 0, rolled_back = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        if (!strstr(line, "\"recovered\":true")) continue;
        completed += strstr(line, "\"op\":\"done\"") != NULL;
        rolled_back += strstr(line, "\"op\":\"abort\"") != NULL;
    }
    free(text);
    cr_log_info(
        "kill -9 test: at most %d moves journalled; %d interrupted moves settled: %d completed, %d rolled back; %d "
        "temporaries found after a kill",
        moves_seen, settled, completed, rolled_back, tmps);
    cr_expect_gt(moves_seen, 0, "the child never moved a file");
    for (int i = 0; i < KILL_FILES; i++) free(originals[i].data);
}
