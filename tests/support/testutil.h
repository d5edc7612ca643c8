/*
 * testutil.h — what several test files need: reading files, running the frost binary, finding the
 * oracle's output and the shared folder.
 */
#ifndef FROST_TESTUTIL_H
#define FROST_TESTUTIL_H

#include <stddef.h>

// The whole file, NUL-terminated (binary safe: *len gets the size). NULL when unreadable.
char *tu_read_file(const char *path, size_t *len);

// Writes len bytes to path; 0 on success.
int tu_write_file(const char *path, const void *data, size_t len);

// A fresh directory under /tmp, removed by tu_rmtree.
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);

typedef struct {
    int status;        // exit status, or 128 + signal number when killed by a signal
    char *out;         // stdout, NUL-terminated
    char *err;         // stderr, NUL-terminated
    long max_rss_kb;   // the process's peak resident memory
} tu_run_result;

// Runs $FROST_BIN (default build/frost) with the given arguments (NULL-terminated). A sanitizer's
// report in its stderr fails the test, whatever the exit status (tu_expect_no_sanitizer_report).
void tu_run_frost(tu_run_result *r, const char *const *args);

// Starts $FROST_BIN with args (NULL-terminated) in the background, its stdout and stderr into the file
// out; the child's pid (the caller waits for it, or kills it).
int tu_spawn_frost(const char *out, const char *const *args);

typedef struct {
    const char *stdout_to;       // stdout into this file instead ("/dev/full"); r->out is then ""
    long long file_size_limit;   // bytes (RLIMIT_FSIZE, SIGXFSZ ignored: a write past it fails, EFBIG); 0 none
    long long address_space;     // bytes of address space (RLIMIT_AS: an allocation past it fails); 0 none
    const char *cwd;             // the folder it starts in (FROST_BIN is found from the test's own)
} tu_run_opts;
void tu_run_frost_with(tu_run_result *r, const char *const *args, const tu_run_opts *o);

// A folder of at most `bytes` (a tmpfs mounted on dir, made first): writes there fail with ENOSPC as on
// a full disk. 0, or -1 when this machine lets no tmpfs be mounted (the caller says what it does
// instead). tu_small_disk_end unmounts it.
int tu_small_disk(const char *dir, long long bytes);
void tu_small_disk_end(const char *dir);
void tu_run_free(tu_run_result *r);

// Runs body(arg) in a forked child whose stderr goes to a file; the child exits 0 when body returns.
// Its exit status (128 + signal number when killed), and its stderr in *err (malloc'd, NUL-terminated).
int tu_child_stderr(void (*body)(const void *arg), const void *arg, char **err);

// Where a sanitizer's report starts in text (a process's stderr): AddressSanitizer's, LeakSanitizer's,
// ThreadSanitizer's or UndefinedBehaviorSanitizer's; NULL when there is none (their notes that are no
// error, such as ASan's "WARNING: ... failed to allocate" with allocator_may_return_null, do not count).
const char *tu_sanitizer_report(const char *text);

// Fails the test (and goes on) when text holds a sanitizer's report; what names the process.
void tu_expect_no_sanitizer_report(const char *text, const char *what);

// Runs frost with args and expects it to fail as a command should: exit status `status`, one line on
// stderr starting "frost: " and containing `word`, no C++ backtrace, nothing on stdout.
void tu_expect_one_line_error(const char *const *args, int status, const char *word);

// $FROST_ORACLE/<rel>, in a static buffer. The oracle's output must exist (make test makes it).
const char *tu_oracle(const char *rel);

// 1 in frost's CI: .ci/run exports FROST_CI=1. CI always has ../shared, so there a test that would
// skip or weaken without it fails instead (tu_shared).
int tu_in_ci(void);

// ../shared/<rel> when it exists, else NULL: the caller skips or weakens and says why; in CI
// (tu_in_ci) the calling test fails here instead.
const char *tu_shared(const char *rel);

// Writes a w x h RGB image (3*w*h bytes) as a JPEG (quality 90, 4:2:0); 0 on success.
int tu_write_jpeg(const char *path, int w, int h, const unsigned char *rgb);

// A w x h JPEG of one colour at path, its folders made first; 0 on success.
int tu_write_solid_jpeg(const char *path, int w, int h, unsigned char r, unsigned char g, unsigned char b);

// A 40x30 JPEG mostly of channel cls (0 red, 1 green, 2 blue) with a little texture varying with k,
// its folders made first: pictures of a few classes a small network can tell apart; 0 on success.
int tu_write_class_jpeg(const char *path, int cls, int k);

// Creates the folders of path (everything before its last '/'), like mkdir -p.
void tu_mkdirs_for(const char *path);

// Number of lines in s.
size_t tu_count_lines(const char *s);

// Puts m in eval mode, runs it on the "input" tensor of an oracle safetensors file and returns
// max|y - logits| / max|logits| against its "logits" tensor; -1 with a message in err when the file
// or the forward pass fails.
struct ft_model;
double tu_logits_rel_error(struct ft_model *m, const char *io_path, char *err, size_t errlen);

// The tests' own locales (make test makes them with localedef: $FROST_LOCALES, else build/locales),
// as an absolute path into out. Fails the test when they are not there.
void tu_locales(char *out, size_t len);
// What the build's catalogue says text is in Chinese: gettext itself on the catalogue beside
// $FROST_BIN (the oracle for a translated screen or help). Fails the test when it has no translation.
const char *tu_zh(const char *text);
// The display columns of the first n bytes of s (wcswidth in C.UTF-8: what a terminal gives them).
int tu_columns(const char *s, size_t n);

#endif
