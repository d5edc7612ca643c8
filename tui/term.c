// term.c — curses start/stop with the terminal restored on every exit path (see term.h). The
// signal handler only sets a flag for SIGINT/SIGTERM (the main loop then stops cleanly); for crash
// signals it calls endwin(), which is not async-signal-safe but is what leaves a usable terminal,
// then re-raises the signal with the default action.
#include "term.h"

#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_quit;
static int g_active;
static int g_saved_stderr = -1;
static FILE *g_captured;

static void on_quit(int sig) {
    (void)sig;
    g_quit = 1;
}

static void on_crash(int sig) {
    if (g_active) endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

int term_start(char *err, unsigned long errlen) {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the interface needs a terminal (use a frost command, see frost help)");
        return -1;
    }
    setlocale(LC_ALL, "");
    // stderr to a temporary file while curses draws: nothing may write over the screen
    fflush(stderr);
    g_captured = tmpfile();
    if (g_captured) {
        g_saved_stderr = dup(STDERR_FILENO);
        dup2(fileno(g_captured), STDERR_FILENO);
    }
    if (!initscr()) {
        term_stop();
        snprintf(err, errlen, "cannot start the terminal interface (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    g_active = 1;
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(100);
    if (has_colors() && !getenv("NO_COLOR")) {
        start_color();
        use_default_colors();
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_crash;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    return 0;
}

void term_stop(void) {
    if (g_active) {
        endwin();
        g_active = 0;
    }
    if (g_saved_stderr >= 0) {
        fflush(stderr);
        dup2(g_saved_stderr, STDERR_FILENO);
        close(g_saved_stderr);
        g_saved_stderr = -1;
    }
    if (g_captured) {
        // what was written to stderr meanwhile, shown now that the screen is back
        rewind(g_captured);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, g_captured)) > 0) fwrite(buf, 1, n, stderr);
        fclose(g_captured);
        g_captured = NULL;
    }
}

int term_quit_requested(void) { return g_quit; }
