// prompt.c — a line of text typed on the status line (app_prompt, see app.h). It turns the app's
// tick like the main loop does, so background jobs, the training run and redraws go on meanwhile.
#include <curses.h>
#include <string.h>

#include "app.h"
#include "term.h"

int app_prompt(app *a, const char *label, char *buf, size_t len) {
    size_t n = strlen(buf);
    a->prompt = label;
    a->prompt_buf = buf;
    curs_set(1);
    int done = -1;
    while (done < 0 && !term_quit_requested()) {
        int ch = app_tick(a);
        if (ch == ERR || ch == KEY_RESIZE) continue;
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
            done = n > 0;
        else if (ch == 27 || ch == 7)   // Esc, Ctrl-G
            done = 0;
        else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
            buf[--n] = '\0';
        else if (ch == 21)   // Ctrl-U
            buf[n = 0] = '\0';
        else if (ch >= 0x20 && ch < 0x100 && ch != 127 && n + 1 < len) {
            buf[n++] = (char)ch;
            buf[n] = '\0';
        }
    }
    curs_set(0);
    a->prompt = NULL;
    a->prompt_buf = NULL;
    return done > 0;
}
