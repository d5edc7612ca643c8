/*
 * term.h — owning the terminal: curses on, curses off, and the terminal restored on every way out
 * (quit, Ctrl-C, SIGTERM, a crash signal). While curses owns the screen, stderr goes to a temporary
 * file (libtorch may write there), which is printed after the screen is given back.
 */
#ifndef FROST_TUI_TERM_H
#define FROST_TUI_TERM_H

// 0, or -1 when the terminal cannot be used (not a terminal, unknown TERM): message in err.
int term_start(char *err, unsigned long errlen);
void term_stop(void);
// 1 once SIGINT, SIGTERM or SIGHUP arrived, or the terminal hung up: the main loop should end cleanly.
int term_quit_requested(void);
// 1 while curses owns the screen (between term_start and term_stop): drawing is possible.
int term_active(void);

// The way out after a quit signal (a script waits on frost): the caller gives the screen back first
// (term_stop), then calls this before stopping its background work. That work then has `seconds` to
// end cleanly (a run stops at its batch, jobs are joined); past them the process ends with `status`
// without waiting longer (a calibration or a Grad-CAM in the middle of a forward pass cannot stop
// sooner, and nothing is lost: the JSON log is written as its events come).
void term_exit_deadline(double seconds, int status);

#endif
