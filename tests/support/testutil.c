// testutil.c — helpers shared by the tests: files, temporary folders, running the frost binary.
#define _XOPEN_SOURCE 700   // nftw
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <wchar.h>

#include "frost_torch.h"
#include "safetensors.h"

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && put == len) ? 0 : -1;
}

char *tu_tmpdir(void) {
    char *dir = strdup("/tmp/frost-test-XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir) {
    if (dir) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_run_frost(tu_run_result *r, const char *const *args) { tu_run_frost_with(r, args, NULL); }

void tu_run_frost_with(tu_run_result *r, const char *const *args, const tu_run_opts *o) {
    const char *bin = getenv("FROST_BIN");
    if (!bin) bin = "build/frost";
    char abs_bin[4096];   // started elsewhere (o->cwd), a relative FROST_BIN is the test's
    if (o && o->cwd && bin[0] != '/' && realpath(bin, abs_bin)) bin = abs_bin;
    char out_path[] = "/tmp/frost-out-XXXXXX", err_path[] = "/tmp/frost-err-XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    size_t n = 0;
    while (args[n]) n++;
    const char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = bin;
    for (size_t i = 0; i < n; i++) argv[i + 1] = args[i];
    pid_t pid = fork();
    if (pid == 0) {
        int to = o && o->stdout_to ? open(o->stdout_to, O_WRONLY) : out_fd;
        dup2(to, 1);
        dup2(err_fd, 2);
        if (o && o->file_size_limit > 0) {
            // a write past the limit then fails with EFBIG, as a full disk fails with ENOSPC
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit lim = {(rlim_t)o->file_size_limit, (rlim_t)o->file_size_limit};
            setrlimit(RLIMIT_FSIZE, &lim);
        }
        if (o && o->address_space > 0) {
            struct rlimit lim = {(rlim_t)o->address_space, (rlim_t)o->address_space};
            setrlimit(RLIMIT_AS, &lim);
        }
        if (o && o->cwd && chdir(o->cwd) != 0) _exit(127);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    wait4(pid, &st, 0, &ru);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->max_rss_kb = ru.ru_maxrss;
    close(out_fd);
    close(err_fd);
    r->out = tu_read_file(out_path, NULL);
    r->err = tu_read_file(err_path, NULL);
    unlink(out_path);
    unlink(err_path);
    char what[256];
    snprintf(what, sizeof what, "frost %s", args[0] ? args[0] : "");
    tu_expect_no_sanitizer_report(r->err, what);
    free(argv);
}

int tu_child_stderr(void (*body)(const void *arg), const void *arg, char **err) {
    char path[] = "/tmp/frost-test-child-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        body(arg);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(fd);
    *err = tu_read_file(path, NULL);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *tu_sanitizer_report(const char *text) {
    // the first line of every report; UBSan's is "FILE:LINE:COL: runtime error: WHAT"
    static const char *const starts[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",     "WARNING: ThreadSanitizer",
        ": runtime error: ",       "Sanitizer CHECK failed",   "SUMMARY: AddressSanitizer",
        "SUMMARY: LeakSanitizer",  "SUMMARY: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer"};
    const char *first = NULL;
    for (size_t k = 0; text && k < sizeof starts / sizeof starts[0]; k++) {
        const char *hit = strstr(text, starts[k]);
        if (hit && (!first || hit < first)) first = hit;
    }
    while (first && first > text && first[-1] != '\n') first--;
    return first;
}

void tu_expect_no_sanitizer_report(const char *text, const char *what) {
    const char *report = tu_sanitizer_report(text);
    cr_expect_null(report, "a sanitizer reported an error in %s:\n%.6000s", what, report);
}

void tu_run_free(tu_run_result *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *tu_oracle(const char *rel) {
    static char path[4096];
    const char *dir = getenv("FROST_ORACLE");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "build/oracle", rel);
    return path;
}

int tu_in_ci(void) {
    const char *ci = getenv("FROST_CI");
    return ci && strcmp(ci, "1") == 0;
}

const char *tu_shared(const char *rel) {
    static char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "../shared/%s", rel);
    if (stat(path, &st) == 0) return path;
    cr_assert(!tu_in_ci(), "%s is absent, and CI (FROST_CI=1) always has ../shared: a test here must not skip", path);
    return NULL;
}

size_t tu_count_lines(const char *s) {
    size_t n = 0;
    for (; s && *s; s++)
        if (*s == '\n') n++;
    return n;
}

int tu_write_jpeg(const char *path, int w, int h, const unsigned char *rgb) {
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long len = 0;
    int rc = tj && tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpg, &len, TJSAMP_420, 90, 0) == 0 ? 0 : -1;
    if (rc == 0) rc = tu_write_file(path, jpg, len);
    tjFree(jpg);
    if (tj) tjDestroy(tj);
    return rc;
}

int tu_write_solid_jpeg(const char *path, int w, int h, unsigned char r, unsigned char g, unsigned char b) {
    unsigned char *px = malloc((size_t)w * (size_t)h * 3);
    if (!px) return -1;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) px[3 * i] = r, px[3 * i + 1] = g, px[3 * i + 2] = b;
    tu_mkdirs_for(path);
    int rc = tu_write_jpeg(path, w, h, px);
    free(px);
    return rc;
}

int tu_write_class_jpeg(const char *path, int cls, int k) {
    unsigned char rgb[40 * 30 * 3];
    for (int i = 0; i < 40 * 30; i++)
        for (int c = 0; c < 3; c++) rgb[i * 3 + c] = (unsigned char)(c == cls ? 200 : 30 + ((i * (k + 3)) % 40));
    tu_mkdirs_for(path);
    return tu_write_jpeg(path, 40, 30, rgb);
}

void tu_mkdirs_for(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
}

double tu_logits_rel_error(ft_model *m, const char *io_path, char *err, size_t errlen) {
    safet_file io;
    if (safet_open(&io, io_path, err, errlen) != 0) return -1;
    const safet_tensor *in = safet_find(&io, "input"), *want = safet_find(&io, "logits");
    if (!in || !want || in->ndim != 4 || want->ndim != 2) {
        snprintf(err, errlen, "%s: no 4-D input and 2-D logits", io_path);
        safet_close(&io);
        return -1;
    }
    size_t n_out = want->nbytes / sizeof(float);
    float *x = malloc(in->nbytes), *y = malloc(want->nbytes), *ref = malloc(want->nbytes);
    memcpy(x, in->data, in->nbytes);
    memcpy(ref, want->data, want->nbytes);
    ft_model_set_training(m, 0);
    ft_status *s = ft_model_forward(m, x, in->shape[0], in->shape[1], in->shape[2], in->shape[3], y, n_out);
    double max_diff = 0, max_ref = 0, rel = -1;
    if (s) {
        snprintf(err, errlen, "%s", ft_status_message(s));
        ft_status_free(s);
    } else {
        for (size_t k = 0; k < n_out; k++) {
            max_diff = fmax(max_diff, fabs((double)y[k] - ref[k]));
            max_ref = fmax(max_ref, fabs((double)ref[k]));
        }
        if (max_ref > 0)
            rel = max_diff / max_ref;
        else
            snprintf(err, errlen, "%s: the logits are all zero", io_path);
    }
    free(x);
    free(y);
    free(ref);
    safet_close(&io);
    return rel;
}

void tu_expect_one_line_error(const char *const *args, int status, const char *word) {
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_expect_eq(r.status, status, "exit %d (want %d) for %s %s: %s", r.status, status, args[0], args[1] ? args[1] : "",
                 r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "one line on stderr, got: %s", r.err);
    cr_expect(strncmp(r.err, "frost: ", 7) == 0, "stderr: %s", r.err);
    cr_expect(strstr(r.err, word) != NULL, "stderr lacks '%s': %s", word, r.err);
    cr_expect(strstr(r.err, "terminate") == NULL && strstr(r.err, "frame #") == NULL &&
                  strstr(r.err, "Exception") == NULL,
              "no C++ backtrace: %s", r.err);
    cr_expect_str_eq(r.out, "");
    tu_run_free(&r);
}

int tu_small_disk(const char *dir, long long bytes) {
    mkdir(dir, 0755);
    char opts[64];
    snprintf(opts, sizeof opts, "size=%lld", bytes);
    return mount("tmpfs", dir, "tmpfs", 0, opts) == 0 ? 0 : -1;
}

void tu_small_disk_end(const char *dir) { umount2(dir, MNT_DETACH); }

int tu_spawn_frost(const char *out, const char *const *args) {
    const char *bin = getenv("FROST_BIN");
    if (!bin) bin = "build/frost";
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(out, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0) _exit(127);
        const char *argv[32] = {bin};
        for (int i = 0; args[i] && i < 30; i++) argv[i + 1] = args[i];
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return (int)pid;
}

void tu_locales(char *out, size_t len) {
    const char *dir = getenv("FROST_LOCALES") && *getenv("FROST_LOCALES") ? getenv("FROST_LOCALES") : "build/locales";
    char abs[PATH_MAX];
    cr_assert_not_null(realpath(dir, abs), "the tests' locales (%s): make test makes them", dir);
    cr_assert_lt(strlen(abs), len);
    memcpy(out, abs, strlen(abs) + 1);
}

const char *tu_zh(const char *text) {
    static int ready;
    if (!ready) {
        char locales[PATH_MAX], dir[PATH_MAX + 16];
        tu_locales(locales, sizeof locales);
        setenv("LOCPATH", locales, 1);
        unsetenv("LANGUAGE");
        cr_assert_not_null(setlocale(LC_MESSAGES, "zh_CN.UTF-8"), "the locale zh_CN.UTF-8 in %s", locales);
        const char *bin = getenv("FROST_BIN") && *getenv("FROST_BIN") ? getenv("FROST_BIN") : "build/frost";
        snprintf(dir, sizeof dir, "%s", bin);
        char *slash = strrchr(dir, '/');
        if (slash)
            strcpy(slash + 1, "locale");
        else
            strcpy(dir, "locale");
        cr_assert_not_null(bindtextdomain("frost", dir));
        bind_textdomain_codeset("frost", "UTF-8");
        ready = 1;
    }
    const char *t = dgettext("frost", text);
    cr_assert_str_neq(t, text, "the catalogue translates \"%s\"", text);
    return t;
}

int tu_columns(const char *s, size_t n) {
    if (!setlocale(LC_CTYPE, NULL) || !strstr(setlocale(LC_CTYPE, NULL), "UTF-8"))
        cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
    wchar_t w[4096];
    char buf[4 * 4096];
    snprintf(buf, sizeof buf, "%.*s", (int)n, s);
    size_t k = mbstowcs(w, buf, sizeof w / sizeof w[0]);
    cr_assert_neq(k, (size_t)-1, "valid UTF-8: %s", buf);
    return wcswidth(w, k);
}
