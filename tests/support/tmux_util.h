/*
 * tmux_util.h — driving the real frost binary inside a private tmux server for end-to-end tests of
 * the interface: start it with arguments and a window size, send keys, read the screen (as text, or
 * with its colour escapes), wait for text to appear.
 */
#ifndef FROST_TESTS_TMUX_UTIL_H
#define FROST_TESTS_TMUX_UTIL_H

#include <stddef.h>

// Starts `frost ARGS` (FROST_BIN, else build/frost) in a detached session of cols x rows with the
// extra environment `env` ("NAME=value NAME2=value", may be NULL or ""). Unless env sets another
// XDG_CONFIG_HOME, frost reads a config file that sets the Train screen's weights to none (a test
// machine cannot download ImageNet's, the interface's default). After frost exits the pane
// shows "EXITED <status>", then "TERMINAL sane" when the terminal is back in its usual mode (echo
// and line editing on) or "TERMINAL raw" when frost left it broken. A session still running is
// stopped first: one at a time, and every one is ended (tmux_stop, or at the process's exit).
void tmux_start(const char *args, int cols, int rows, const char *env);
// The env (for tmux_start) that preloads the tests' gate (tests/preload/gate_preload.c, built beside
// FROST_BIN): frost's opens of a path holding "frost-gate" wait while the file gate exists, so a test
// holds a background job there for as long as it likes.
void tmux_gate_env(char *buf, size_t len, const char *gate);
// While a job of frost's waits at that gate: sends key and waits up to 30 s for text (the screen
// answered). When it does not come, the gate is opened (removed), so that a blocked frost can end with
// its session. 1, else 0.
int tmux_answers_at_gate(const char *key, const char *text, const char *gate);
// Ends the session (its tmux server, and frost in it); nothing when none runs. In a sanitized build's
// run, a report a sanitizer wrote for the session's frost fails the test (the sanitizers write them to
// files of their own there: the interface holds its stderr back while it draws).
void tmux_stop(void);
// Sends tmux key names (send-keys syntax: "Down Down Enter", "q").
void tmux_keys(const char *keys);
// Sends literal text (each byte a key).
void tmux_text(const char *text);
void tmux_resize(int cols, int rows);
// Sends a signal ("TERM", "INT", "SEGV") to the frost process in the pane: 0, or -1 when none.
int tmux_signal_app(const char *signal_name);
// The visible screen as text; with escapes: with colour/attribute escape sequences (capture-pane -e).
// The buffer is static, overwritten by the next call.
const char *tmux_screen(int escapes);
// The visible screen as one line: each row without its trailing blanks, rows joined by a blank, runs
// of blanks as one; a message wrapped over rows reads whole in it. Static, overwritten by the next call.
const char *tmux_screen_flat(void);
// Waits up to `seconds` for text to be on the screen: 1, else 0.
int tmux_wait_for(const char *text, int seconds);
// Waits up to `seconds` for text to be gone from the screen: 1, else 0.
int tmux_wait_gone(const char *text, int seconds);

#endif
