// tmux_util.c — see tmux_util.h.
#include "tmux_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static void tmux_stop_session(void);

static char sock[64];          // the session running now ("" none)
static char config_home[64];   // the sessions' XDG_CONFIG_HOME ("" not made yet)
static char report_dir[64];    // where a sanitized frost writes its sanitizers' reports ("" none)

// The sanitizers that have options in this environment (a sanitized build's test run) and the prefix
// of the files their reports go to.
static const struct {
    const char *var, *file;
} sanitizers[] = {{"ASAN_OPTIONS", "asan"}, {"UBSAN_OPTIONS", "ubsan"}, {"TSAN_OPTIONS", "tsan"}};

// Removes the session's report files; with check, a report among them fails the test. A sanitizer
// writes its report to log_path (set by tmux_start), not to stderr: the interface sends its stderr to
// a temporary file while curses draws, and a report there dies with the process.
static void collect_reports(int check) {
    DIR *d = report_dir[0] ? opendir(report_dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", report_dir, e->d_name);
        char *text = tu_read_file(path, NULL);
        if (check) tu_expect_no_sanitizer_report(text, "frost in tmux");
        free(text);
        unlink(path);
    }
    if (d) closedir(d);
}

// Whatever happens to a test (a failed assertion ends it early), its process leaves no session, and
// no folder.
static void stop_at_exit(void) {
    tmux_stop_session();
    collect_reports(0);
    if (report_dir[0]) rmdir(report_dir);
    if (config_home[0]) {
        char path[128];
        snprintf(path, sizeof path, "%s/frost/config", config_home);
        unlink(path);
        snprintf(path, sizeof path, "%s/frost", config_home);
        rmdir(path);
        rmdir(config_home);
    }
}

// The config file every session reads unless its env names another XDG_CONFIG_HOME: the Train
// screen's weights none. The interface's default is ImageNet's weights, which a test machine has
// no network to download; the tests that are about weights set them on the screen, or use a config
// of their own.
static const char *test_config_home(void) {
    if (config_home[0]) return config_home;
    snprintf(config_home, sizeof config_home, "/tmp/frost-test-config-XXXXXX");
    cr_assert_not_null(mkdtemp(config_home));
    char path[128];
    snprintf(path, sizeof path, "%s/frost", config_home);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/frost/config", config_home);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("weights = none\n", f);
    cr_assert_eq(fclose(f), 0);
    return config_home;
}

static void tmux_cmd(const char *inner) {
    char cmd[8448];
    snprintf(cmd, sizeof cmd, "tmux -L %s %s", sock, inner);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

void tmux_start(const char *args, int cols, int rows, const char *env) {
    static int serial, registered;
    if (!registered) registered = atexit(stop_at_exit) == 0;
    tmux_stop();   // one app at a time: a second start ends the first session instead of orphaning it
    snprintf(sock, sizeof sock, "frost-test-%d-%d", (int)getpid(), serial++);
    const char *bin = getenv("FROST_BIN");
    // env's own options (-u NAME) come first, so the default config and the reports' files go after
    // the test's env. The locale is the tests' own, not the caller's: UTF-8 (C.UTF-8 is in every
    // glibc) unless the test's env says otherwise (LANG=C), whatever LANG or LC_ALL the suite was
    // started with.
    int own_config = env && strstr(env, "XDG_CONFIG_HOME=") != NULL;
    char report_env[4096] = "";
    for (size_t k = 0, used = 0; k < sizeof sanitizers / sizeof sanitizers[0]; k++) {
        const char *opts = getenv(sanitizers[k].var);
        if (!opts) continue;
        if (!report_dir[0]) {
            snprintf(report_dir, sizeof report_dir, "/tmp/frost-test-reports-XXXXXX");
            cr_assert_not_null(mkdtemp(report_dir));
        }
        // (ASan's check that its runtime comes first is off: tmux_gate_env preloads a library before it)
        used +=
            (size_t)snprintf(report_env + used, sizeof report_env - used, " %s=%s:log_path=%s/%s%s", sanitizers[k].var,
                             opts, report_dir, sanitizers[k].file, k == 0 ? ":verify_asan_link_order=0" : "");
        cr_assert_lt(used, sizeof report_env, "the sanitizers' options are too long");
    }
    char cmd[8192];
    snprintf(
        cmd, sizeof cmd,
        "new-session -d -s ui -x %d -y %d 'env -u LC_ALL -u LC_CTYPE -u LC_MESSAGES -u LANGUAGE LANG=C.UTF-8 env %s%s "
        "%s%s %s %s; "
        "echo \"EXITED $?\"; "
        "stty -a | grep -q -e -icanon -e \" -echo \" && echo \"TERMINAL raw\" || echo \"TERMINAL sane\"; sleep 120'",
        cols, rows, env ? env : "", report_env,
        own_config ? "" : "XDG_CONFIG_HOME=", own_config ? "" : test_config_home(), bin ? bin : "build/frost",
        args ? args : "");
    tmux_cmd(cmd);
}

void tmux_gate_env(char *buf, size_t len, const char *gate) {
    const char *bin = getenv("FROST_BIN");
    char lib[4096], *abs;
    snprintf(lib, sizeof lib, "%s", bin ? bin : "build/frost");
    char *slash = strrchr(lib, '/');
    snprintf(slash ? slash + 1 : lib, sizeof lib - (size_t)(slash ? slash + 1 - lib : 0), "gate_preload.so");
    abs = realpath(lib, NULL);
    cr_assert_not_null(abs, "no %s (make builds it with the tests)", lib);
    snprintf(buf, len, "LD_PRELOAD=%s FROST_TEST_GATE=%s", abs, gate);
    free(abs);
}

int tmux_answers_at_gate(const char *key, const char *text, const char *gate) {
    tmux_keys(key);
    int answered = tmux_wait_for(text, 30);
    if (!answered) unlink(gate);
    return answered;
}

void tmux_stop(void) {
    tmux_stop_session();
    collect_reports(1);
}

static void tmux_stop_session(void) {
    if (!sock[0]) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", sock);
    if (system(cmd) != 0) { /* already gone */
    }
    sock[0] = '\0';
}

void tmux_keys(const char *keys) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "send-keys -t ui %s", keys);
    tmux_cmd(cmd);
}

void tmux_text(const char *text) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "send-keys -t ui -l '%s'", text);
    tmux_cmd(cmd);
}

void tmux_resize(int cols, int rows) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "resize-window -t ui -x %d -y %d", cols, rows);
    tmux_cmd(cmd);
}

const char *tmux_screen(int escapes) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p %s -t ui", sock, escapes ? "-e" : "");
    FILE *p = popen(cmd, "r");
    static char buf[1 << 20];
    size_t n = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[n] = '\0';
    if (p) pclose(p);
    return buf;
}

const char *tmux_screen_flat(void) {
    static char flat[1 << 20];
    const char *s = tmux_screen(0);
    size_t n = 0;
    for (; *s && n + 1 < sizeof flat; s++) {
        char c = *s == '\n' ? ' ' : *s;
        if (c == ' ' && (n == 0 || flat[n - 1] == ' ')) continue;
        flat[n++] = c;
    }
    while (n > 0 && flat[n - 1] == ' ') n--;
    flat[n] = '\0';
    return flat;
}

int tmux_wait_for(const char *text, int seconds) {
    for (int i = 0; i < seconds * 10; i++) {
        if (strstr(tmux_screen(0), text)) return 1;
        usleep(100000);
    }
    return 0;
}

int tmux_wait_gone(const char *text, int seconds) {
    for (int i = 0; i < seconds * 10; i++) {
        if (!strstr(tmux_screen(0), text)) return 1;
        usleep(100000);
    }
    return 0;
}

int tmux_signal_app(const char *signal_name) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pkill -%s -P $(tmux -L %s list-panes -t ui -F '#{pane_pid}')", signal_name, sock);
    return system(cmd) == 0 ? 0 : -1;
}
