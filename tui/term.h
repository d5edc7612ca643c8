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

#endif
