/*
 * style.h — how the interface looks: colour roles mapped to curses attributes by the theme in use
 * (themes/NAME.theme), and the glyphs it draws with (UTF-8 block and box characters, or an ASCII
 * fallback when the terminal's character set is not UTF-8 or FROST_ASCII is set).
 *
 * Screens never pick colours: they ask for a role (attron(style(ROLE_FROZEN))). Colour pairs
 * 1..STYLE_LAST_PAIR belong to the theme; pairs above it are free for pictures (the image preview).
 */
#ifndef FROST_TUI_STYLE_H
#define FROST_TUI_STYLE_H

#include <curses.h>
#include <stddef.h>

typedef enum {
    ROLE_TEXT,        // ordinary text (and the background)
    ROLE_DIM,         // secondary text: hints, file sizes, closing brackets
    ROLE_TITLE,       // the title line and section headings
    ROLE_SELECTED,    // the selected row
    ROLE_KEYBAR,      // the bottom key bar
    ROLE_STATUS,      // the status line
    ROLE_FROZEN,      // a frozen module or parameter count
    ROLE_TRAINABLE,   // a trainable one
    ROLE_PARTIAL,     // a module with both
    ROLE_CHANGED,     // lines that differ (before/after head replacement)
    ROLE_BAR,         // the filled part of a bar
    ROLE_BAR_EMPTY,   // the rest of it
    ROLE_TRAIN,       // training-split numbers and chart series
    ROLE_VALID,       // validation-split numbers and chart series
    ROLE_GOOD,        // success
    ROLE_WARNING,     // bad files, things to look at
    ROLE_ERROR,       // failures
    N_ROLES
} ui_role;

#define STYLE_LAST_PAIR 63

// After initscr: colours on where the terminal has them and NO_COLOR is unset, the theme `name`
// (NULL: $FROST_THEME, else "dark") loaded from the themes folder (a name with a '/' is a file's
// path). Returns 0, or -1 when the theme
// could not be used: msg says why in one line (the file and line of a malformed theme) and the
// built-in default theme is in use.
int style_start(const char *name, char *msg, size_t msglen);
attr_t style(ui_role r);
// The next theme in the themes folder (alphabetical, wrapping). Returns 0, or -1 with msg.
int style_cycle(char *msg, size_t msglen);
const char *style_theme_name(void);
int style_colors(void);   // colours in use: 0 (none, or NO_COLOR), 8, 16, 256, or 16777216 (direct)

typedef enum {
    GL_FULL,         // a full block (bars)
    GL_SHADE,        // the empty part of a bar
    GL_UPPER_HALF,   // half-block pictures
    GL_HLINE,
    GL_VLINE,
    GL_CORNER_TL,
    GL_CORNER_TR,
    GL_CORNER_BL,
    GL_CORNER_BR,
    GL_FOLDED,
    GL_UNFOLDED,   // fold marks
    GL_FROZEN,
    GL_TRAINABLE,
    GL_PARTIAL,
    GL_BAD,   // a bad file
    N_GLYPHS
} glyph_id;

const char *glyph(glyph_id g);
int style_unicode(void);   // 1: UTF-8 glyphs; 0: ASCII
// A horizontal bar of `width` cells filled to frac (0..1), with eighth-block partial cells in UTF-8.
void style_bar(int y, int x, int width, double frac, ui_role filled);

#endif
