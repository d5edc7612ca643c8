// style.c — colour roles and glyphs (see style.h). Placeholder theme: attributes only; the themes
// folder is read by the full version.
#include "style.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>

static int g_unicode = 1;
static int g_colors;

int style_start(const char *name, char *msg, size_t msglen) {
    (void)name;
    (void)msg;
    (void)msglen;
    const char *cs = nl_langinfo(CODESET);
    g_unicode = cs && strcmp(cs, "UTF-8") == 0 && !getenv("FROST_ASCII");
    g_colors = has_colors() && !getenv("NO_COLOR") ? COLORS : 0;
    return 0;
}

attr_t style(ui_role r) {
    switch (r) {
    case ROLE_TITLE: return A_BOLD;
    case ROLE_SELECTED:
    case ROLE_KEYBAR: return A_REVERSE;
    case ROLE_DIM:
    case ROLE_FROZEN: return A_DIM;
    case ROLE_TRAINABLE:
    case ROLE_CHANGED:
    case ROLE_ERROR: return A_BOLD;
    default: return A_NORMAL;
    }
}

int style_cycle(char *msg, size_t msglen) {
    (void)msg;
    (void)msglen;
    return 0;
}
const char *style_theme_name(void) { return "default"; }
int style_colors(void) { return g_colors; }
int style_unicode(void) { return g_unicode; }

const char *glyph(glyph_id g) {
    static const char *const U[N_GLYPHS] = {"\u2588", "\u2591", "\u2580", "\u2500", "\u2502", "\u250c", "\u2510",
                                            "\u2514", "\u2518", "\u25b8", "\u25be", "\u2744", "\u25cf", "\u25d0",
                                            "\u2717"};
    static const char *const A[N_GLYPHS] = {"#", ".", "\"", "-", "|", "+", "+", "+", "+", ">", "v", "*", "o", "~", "x"};
    return g_unicode ? U[g] : A[g];
}

void style_bar(int y, int x, int width, double frac, ui_role filled) {
    if (width <= 0) return;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int eighths = (int)(frac * width * 8 + 0.5);
    static const char *const partial[8] = {"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
    move(y, x);
    attron(style(filled));
    int i = 0;
    for (; i < eighths / 8; i++) addstr(glyph(GL_FULL));
    if (i < width && eighths % 8 && g_unicode) {
        addstr(partial[eighths % 8]);
        i++;
    }
    attroff(style(filled));
    attron(style(ROLE_BAR_EMPTY));
    for (; i < width; i++) addstr(glyph(GL_SHADE));
    attroff(style(ROLE_BAR_EMPTY));
}
