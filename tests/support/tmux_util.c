// tmux_util.c — see tmux_util.h.
#include "tmux_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char sock[64];          // the session running now ("" none)
static char config_home[64];   // the sessions' XDG_CONFIG_HOME ("" not made yet)

// Whatever happens to a test (a failed assertion ends it early), its process leaves no session, and
// no folder.
static void stop_at_exit(void) {
    tmux_stop();
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
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "tmux -L %s %s", sock, inner);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

void tmux_start(const char *args, int cols, int rows, const char *env) {
    static int serial, registered;
    if (!registered) registered = atexit(stop_at_exit) == 0;
    tmux_stop();   // one app at a time: a second start ends the first session instead of orphaning it
    snprintf(sock, sizeof sock, "frost-test-%d-%d", (int)getpid(), serial++);
    const char *bin = getenv("FROST_BIN");
    // env's own options (-u NAME) come first, so the default config goes after the test's env.
    // The locale is the tests' own, not the caller's: UTF-8 (C.UTF-8 is in every glibc) unless the
    // test's env says otherwise (LANG=C), whatever LANG or LC_ALL the suite was started with.
    int own_config = env && strstr(env, "XDG_CONFIG_HOME=") != NULL;
    char cmd[3072];
    snprintf(
        cmd, sizeof cmd,
        "new-session -d -s ui -x %d -y %d 'env -u LC_ALL -u LC_CTYPE LANG=C.UTF-8 env %s %s%s %s %s; "
        "echo \"EXITED $?\"; "
        "stty -a | grep -q -e -icanon -e \" -echo \" && echo \"TERMINAL raw\" || echo \"TERMINAL sane\"; sleep 120'",
        cols, rows, env ? env : "", own_config ? "" : "XDG_CONFIG_HOME=", own_config ? "" : test_config_home(),
        bin ? bin : "build/frost", args ? args : "");
    tmux_cmd(cmd);
}

void tmux_stop(void) {
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
