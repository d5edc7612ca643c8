// test_sigterm.c — SIGTERM to the interface, as the script that started it sees it: a shell script in
// tmux starts frost several times in a row; the test sends SIGTERM at one moment of each run (idle on
// each screen, while the Train screen downloads weights from a local server that never finishes,
// during training, during the dataset scan at start), and the script's next line must run within 2 s,
// every time, with the terminal's settings (stty -g) as they were before frost started. `make test`
// tries each moment a few times (the suite's budget); SIGTERM_TRIES=20 runs the twenty.
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "http_server.h"
#include "testutil.h"
#include "tmux_util.h"

// Tries per moment: SIGTERM_TRIES, else 4 (the idle moment's four screens once each).
static int tries(void) {
    const char *v = getenv("SIGTERM_TRIES");
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : 4;
}

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tmux_stop();
    tu_rmtree(dir);
    free(dir);
}
// (600 s: SIGTERM_TRIES=20 took 210 s for the training moment with the machine loaded 8 times over)
TestSuite(tui_sigterm, .init = setup, .fini = teardown, .timeout = 600);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Waits up to `seconds` for path to exist: 1, else 0.
static int wait_file(const char *path, double seconds) {
    for (double end = now() + seconds; now() < end; usleep(10000))
        if (access(path, F_OK) == 0) return 1;
    return access(path, F_OK) == 0;
}

// The number in path (a pid), or -1.
static long read_number(const char *path) {
    char *s = tu_read_file(path, NULL);
    long v = s ? strtol(s, NULL, 10) : -1;
    free(s);
    return v;
}

// The script: tries() runs of frost with args (after `env` settings), each between two `stty -g`, the
// pid of each run in pid.N (the shell's, which becomes frost), and the status of each in next.N,
// written by the line after frost.
static void start_script(const char *env, const char *args) {
    char cwd[1024], script[1200], bin[2048], text[8192];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    const char *b = getenv("FROST_BIN");
    snprintf(bin, sizeof bin, "%s%s%s", b && b[0] == '/' ? "" : cwd, b && b[0] == '/' ? "" : "/",
             b ? b : "build/frost");
    snprintf(script, sizeof script, "%s/runs.sh", dir);
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "cd '%s'\n"
             "i=0\n"
             "while [ $i -lt %d ]; do\n"
             "  i=$((i + 1))\n"
             "  stty -g > '%s/before.'$i\n"
             "  env %s sh -c 'echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\" && exec \"$@\"' '%s/pid.'$i "
             "'%s' %s\n"
             "  echo $? > '%s/next.'$i\n"
             "  stty -g > '%s/after.tmp' && mv '%s/after.tmp' '%s/after.'$i\n"
             "done\n"
             "echo ALL TRIES DONE\n",
             cwd, tries(), dir, env ? env : "", dir, bin, args, dir, dir, dir, dir);
    cr_assert_eq(tu_write_file(script, text, strlen(text)), 0);
    // tmux_start runs FROST_BIN with the arguments: here the shell, with the script
    char *saved = b ? strdup(b) : NULL;
    setenv("FROST_BIN", "/bin/sh", 1);
    tmux_start(script, 200, 45, NULL);   // wide: the Model screen's cost line ends with what it measures
    if (saved)
        setenv("FROST_BIN", saved, 1);
    else
        unsetenv("FROST_BIN");
    free(saved);
}

// Try k's frost: waits for its pid (the previous run has ended by then), 0 when it never came.
static long frost_pid(int k) {
    char path[1200];
    snprintf(path, sizeof path, "%s/pid.%d", dir, k);
    cr_assert(wait_file(path, 60), "try %d: frost never started:\n%s", k, tmux_screen(0));
    return read_number(path);
}

// After the moment came: SIGTERM, then the script's next line within 2 s and the terminal as it was.
// Returns the seconds it took (a hung frost is killed, and the test fails).
static double term_and_expect_next_line(int k, long pid, const char *moment) {
    char next[1200], before[1200], after[1200];
    snprintf(next, sizeof next, "%s/next.%d", dir, k);
    snprintf(before, sizeof before, "%s/before.%d", dir, k);
    snprintf(after, sizeof after, "%s/after.%d", dir, k);
    double t0 = now();
    cr_assert_eq(kill((pid_t)pid, SIGTERM), 0, "try %d: frost (%ld) is gone before SIGTERM", k, pid);
    int ran = wait_file(next, 2.0);
    double took = now() - t0;
    if (!ran) {
        cr_expect_fail("try %d, %s: the script's next line did not run within 2 s of SIGTERM:\n%s", k, moment,
                       tmux_screen(0));
        kill((pid_t)pid, SIGKILL);
        cr_assert(wait_file(next, 10), "try %d: frost does not end even on SIGKILL", k);
    }
    cr_assert(wait_file(after, 10), "try %d", k);
    if (!ran) return took;   // (killed: its terminal settings say nothing)
    char *a = tu_read_file(before, NULL), *b = tu_read_file(after, NULL);
    cr_expect(a && b && strcmp(a, b) == 0, "try %d, %s: the terminal's settings changed:\nbefore %safter  %s", k,
              moment, a ? a : "?", b ? b : "?");
    free(a);
    free(b);
    return took;
}

// Waits until text is on the screen for try k (fails the test after 60 s).
static void wait_screen(int k, const char *text) {
    cr_assert(tmux_wait_for(text, 60), "try %d: waiting for '%s':\n%s", k, text, tmux_screen(0));
}

// A dataset at ds: `classes` folders of `per_class` files, the first `train` of each in train/, the
// rest in valid/; class JPEGs (tu_write_class_jpeg), or with junk three bytes named .jpg (what a scan
// lists, no more).
static void make_dataset(const char *ds, int classes, int per_class, int train, int junk) {
    for (int c = 0; c < classes; c++)
        for (int k = 0; k < per_class; k++) {
            char p[1300];
            snprintf(p, sizeof p, "%s/%s/c%02d/%03d.jpg", ds, k < train ? "train" : "valid", c, k);
            if (junk) {
                if (k == 0) tu_mkdirs_for(p);
                cr_assert_eq(tu_write_file(p, "\xff\xd8\xff", 3), 0);
            } else {
                cr_assert_eq(tu_write_class_jpeg(p, c, k), 0);
            }
        }
}

// Runs the script (env, args) and, for each try, waits for `moment` to bring its frost to the moment
// (returning what it was), then sends SIGTERM and checks the way out; logs the slowest.
typedef const char *(*moment_fn)(int k, long pid, void *user);
static void run_tries(const char *what, const char *env, const char *args, moment_fn moment, void *user) {
    start_script(env, args);
    double worst = 0;
    int n = tries();
    for (int k = 1; k <= n; k++) {
        long pid = frost_pid(k);
        const char *at = moment(k, pid, user);
        worst = fmax(worst, term_and_expect_next_line(k, pid, at));
    }
    cr_expect(tmux_wait_for("ALL TRIES DONE", 30), "%s:\n%s", what, tmux_screen(0));
    cr_log_info("SIGTERM %s: %d tries, the slowest next line after %.2f s", what, n, worst);
}

// ---------------------------------------------------------------------------------------------

// Idle on each screen in turn: Data; Model with the head just replaced, while the cost line measures
// this machine's speed in the background (resnet50 at 224: seconds of forward and backward passes
// that cannot stop halfway; a fresh cache each time, so it is measured); Train; Predict.
static const char *idle_on_a_screen(int k, long pid, void *user) {
    (void)pid, (void)user;
    wait_screen(k, "3 classes");
    if (k % 4 == 1) {
        tmux_keys("2");
        wait_screen(k, "ResNet(");
        tmux_keys("h");
        wait_screen(k, "measuring this device");
        return "idle on the Model screen, measuring";
    }
    if (k % 4 == 2) {
        tmux_keys("3");
        wait_screen(k, "learning rate  1e-05");
        return "idle on the Train screen";
    }
    if (k % 4 == 3) {
        tmux_keys("4");
        wait_screen(k, "No model to predict with yet");
        return "idle on the Predict screen";
    }
    return "idle on the Data screen";
}

Test(tui_sigterm, idle) {
    char env[1200];
    snprintf(env, sizeof env, "XDG_CACHE_HOME=%s/cache.$i", dir);
    run_tries("idle", env, "sample_data --arch resnet50", idle_on_a_screen, NULL);
}

// The Train screen's weights are ImageNet's (no config file says otherwise), in no cache, and the
// mirror sends a little of the file, then nothing: Enter starts a download that is still going when
// SIGTERM comes.
static const char *downloading(int k, long pid, void *user) {
    (void)pid;
    server *s = user;
    wait_screen(k, "3 classes");
    int asked = atomic_load(&s->requests);
    tmux_keys("3");
    wait_screen(k, "weights        ImageNet");
    tmux_keys("Enter");
    for (int t = 0; t < 600 && atomic_load(&s->requests) == asked; t++) usleep(10000);
    cr_assert_gt(atomic_load(&s->requests), asked, "try %d: no download started:\n%s", k, tmux_screen(0));
    return "during a download";
}

Test(tui_sigterm, during_a_weights_download) {
    static unsigned char data[1 << 16];
    server s = {.nfiles = 1,
                .files = {{.path = "/models/resnet18-f37072fd.pth", .data = data, .len = sizeof data, .stall = 1}}};
    server_start(&s);
    char env[4096];
    snprintf(env, sizeof env,
             "XDG_CONFIG_HOME=%s/no-config XDG_CACHE_HOME=%s/cache TORCH_HOME=%s/torch no_proxy=127.0.0.1", dir, dir,
             dir);
    run_tries("during a download", env, "sample_data", downloading, &s);
    tmux_stop();
    server_stop(&s);
}

// 400 small training images at 64x64, batches of 4, 20 epochs (a minute or more): SIGTERM a moment
// after the screen shows the run going (any epoch but the last: a batch lasts milliseconds, too short
// to be read off the screen, and one epoch can pass between two readings on a busy machine).
static const char *training(int k, long pid, void *user) {
    (void)pid, (void)user;
    wait_screen(k, "2 classes");
    tmux_keys("3");
    wait_screen(k, "learning rate  1e-05");
    // 20 epochs, batch 4, 64x64, feature cache off
    tmux_keys("Down Right Right Down Left Left Down Down Down Left Left Left Down Down Right");
    wait_screen(k, "feature cache  off");
    tmux_keys("Enter");
    int going = 0;
    for (double end = now() + 60; !going && now() < end; usleep(20000)) {
        const char *screen = tmux_screen(0);
        going = strstr(screen, "/20 ") && !strstr(screen, "epoch 0/20") && !strstr(screen, "epoch 20/20") &&
                !strstr(screen, "Training complete");
    }
    cr_assert(going, "try %d: the run never showed:\n%s", k, tmux_screen(0));
    usleep((useconds_t)(k * 15000));   // 15 to 300 ms into it
    return "during training";
}

Test(tui_sigterm, during_training) {
    char ds[1100];
    snprintf(ds, sizeof ds, "%s/ds", dir);
    make_dataset(ds, 2, 202, 200, 0);
    run_tries("during training", NULL, ds, training, NULL);
}

// The scan at start: a dataset of 40 folders of 100 files; SIGTERM as soon as frost holds one of its
// folders open (read from /proc).
typedef struct {
    const char *ds;
    int caught;   // tries whose SIGTERM came during the scan
} scan_moment;

static const char *scanning(int k, long pid, void *user) {
    (void)k;
    scan_moment *m = user;
    int in_scan = 0;
    for (double end = now() + 30; !in_scan && now() < end;) {
        char fds[64];
        snprintf(fds, sizeof fds, "/proc/%ld/fd", pid);
        DIR *d = opendir(fds);
        if (!d) break;   // (gone)
        for (struct dirent *e; !in_scan && (e = readdir(d));) {
            char link[1300], target[1400] = "";
            snprintf(link, sizeof link, "%s/%s", fds, e->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            in_scan = n > 0 && strstr(target, m->ds) != NULL;
        }
        closedir(d);
        if (!in_scan) usleep(1000);
    }
    m->caught += in_scan;
    return "during the dataset scan";
}

Test(tui_sigterm, during_the_dataset_scan) {
    char ds[1100];
    snprintf(ds, sizeof ds, "%s/big", dir);
    make_dataset(ds, 40, 100, 100, 1);
    scan_moment m = {ds, 0};
    run_tries("during the dataset scan", NULL, ds, scanning, &m);
    cr_expect_gt(m.caught, tries() / 2, "only %d of %d SIGTERMs came during the scan", m.caught, tries());
}
