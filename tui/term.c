// term.c — curses start/stop with the terminal restored on every exit path (see term.h). The
// signal handler only sets a flag for SIGINT/SIGTERM/SIGHUP (the main loop then stops cleanly); for crash
// signals it calls endwin(), which is not async-signal-safe but is what leaves a usable terminal,
// then re-raises the signal with the default action. Once the screen is given back the default
// actions return: a second Ctrl-C or SIGTERM during a slow way out ends frost at once.
// With COLORTERM=truecolor and a "-direct" terminfo entry for the terminal, curses runs on that entry
// (24-bit colours); anything wrong with it falls back to TERM as it is.
#include "term.h"

#include <curses.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <time.h>
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

// The terminal's "-direct" terminfo entry (xterm-256color -> xterm-direct) when COLORTERM says it
// has 24-bit colour and NO_COLOR is unset, so themes' #rrggbb colours are drawn exactly; else (no
// such entry, or it fails) TERM as it is, like initscr. Inside tmux only tmux's own entry is
// upgraded: COLORTERM is inherited from the outer terminal there, and tmux 3.3 draws nothing for a
// program running on xterm-direct.
static int start_screen(void) {
    const char *ct = getenv("COLORTERM"), *term = getenv("TERM");
    if (ct && term && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0) && !getenv("NO_COLOR") &&
        !strstr(term, "-direct") && (!getenv("TMUX") || strncmp(term, "tmux", 4) == 0) && !getenv("STY")) {
        char name[128];
        size_t base = strcspn(term, "-");
        if (base > 0 && base < sizeof name - 8) {
            snprintf(name, sizeof name, "%.*s-direct", (int)base, term);
            int status;
            if (setupterm(name, STDOUT_FILENO, &status) == OK) {   // the entry exists
                del_curterm(cur_term);
                if (newterm(name, stdout, stdin)) return 1;
            }
        }
    }
    return newterm(NULL, stdout, stdin) != NULL;   // initscr would exit on failure, with stderr captured
}

int term_start(char *err, unsigned long errlen) {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the interface needs a terminal (use a frost command, see frost help)");
        return -1;
    }
    // the terminal's type first, while a message can still be seen (curses would exit without one)
    const char *term = getenv("TERM");
    int status = 0;
    if (!term || !*term) {
        snprintf(err, errlen,
                 "TERM is not set, so the terminal's type is unknown: set it (export TERM=xterm-256color) "
                 "to open the interface");
        return -1;
    }
    if (setupterm(NULL, STDOUT_FILENO, &status) != OK) {
        snprintf(err, errlen,
                 "TERM=%.60s is not a terminal type this system knows (export TERM=xterm-256color, or "
                 "install ncurses-term)",
                 term);
        return -1;
    }
    del_curterm(cur_term);
    setlocale(LC_CTYPE, "");   // (main's i18n_init did; never LC_NUMERIC: the JSON log writes numbers)
    // stderr to a temporary file while curses draws: nothing may write over the screen
    fflush(stderr);
    g_captured = tmpfile();
    if (g_captured) {
        g_saved_stderr = dup(STDERR_FILENO);
        dup2(fileno(g_captured), STDERR_FILENO);
    }
    if (!start_screen()) {
        term_stop();
        snprintf(err, errlen, "cannot start the terminal interface (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    g_active = 1;
    // the handlers before the terminal's modes change: a SIGTERM from here on ends the main loop, which
    // gives the terminal back, instead of killing frost with the terminal in curses' modes
    struct sigaction sa = {0};
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    timeout(100);
    if (has_colors() && !getenv("NO_COLOR")) {
        start_color();
        use_default_colors();
    }
    return 0;
}

void term_stop(void) {
    if (g_active) {
        endwin();
        g_active = 0;
        // the screen is back: Ctrl-C, SIGTERM and SIGHUP end frost again as they end any program
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
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

int term_active(void) { return g_active; }

typedef struct {
    double seconds;
    int status;
} deadline;

static void *deadline_thread(void *arg) {
    deadline d = *(deadline *)arg;
    free(arg);
    struct timespec t = {(time_t)d.seconds, (long)((d.seconds - (double)(time_t)d.seconds) * 1e9)};
    while (nanosleep(&t, &t) != 0) {   // (EINTR: the rest of the time)
    }
    _exit(d.status);   // no exit(): its destructors would meet the work still running
}

void term_exit_deadline(double seconds, int status) {
    deadline *d = malloc(sizeof *d);
    pthread_t th;
    pthread_attr_t attr;
    if (!d) return;
    *d = (deadline){seconds, status};
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, deadline_thread, d) != 0) free(d);   // then the way out is only slower
    pthread_attr_destroy(&attr);
}

int term_quit_requested(void) {
    // the terminal went away (an SSH connection dropped, tmux's server killed): no SIGHUP need come,
    // but the keyboard's end of it hangs up; without this check the app would run on with no screen
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (!g_quit && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) g_quit = 1;
    return g_quit;
}
