/*
 * theme_file.h — the interface's theme files (themes/NAME.theme) read into a table: colour role ->
 * foreground, background, attributes; and colours brought down to what a terminal can show
 * (direct colour, 256, 16 or 8 colours). Plain C: no curses here (tui/style.c applies the table).
 *
 * The format, one role a line:
 *
 *     # a comment ('#' first on the line; a '#' further on is a #rrggbb colour)
 *     frozen    = #5f87af
 *     selected  = black on cyan bold
 *     title     = bright-white on default bold underline
 *     dim       = 244
 *     keybar    = reverse
 *
 * `ROLE = [FG] [on BG] [ATTRIBUTE ...]`. A colour is `default` (the terminal's own; in roles other
 * than `text`, the colour of `text`), a name (black red green yellow blue magenta cyan white, and
 * bright-black ... bright-white), an xterm palette index 0-255, or #rrggbb. Attributes: bold dim
 * italic underline reverse, or normal (none). Roles not given look like `text`. Blank lines are
 * fine; anything else (an unknown role, colour or word, a role given twice, a line without '=')
 * is an error naming FILE:LINE, and the whole file is refused.
 */
#ifndef FROST_THEME_FILE_H
#define FROST_THEME_FILE_H

#include <stddef.h>

// The roles, in the order of ui_role in tui/style.h (style.c checks the count).
typedef enum {
    THEME_TEXT,
    THEME_DIM,
    THEME_TITLE,
    THEME_SELECTED,
    THEME_KEYBAR,
    THEME_STATUS,
    THEME_FROZEN,
    THEME_TRAINABLE,
    THEME_PARTIAL,
    THEME_CHANGED,
    THEME_BAR,
    THEME_BAR_EMPTY,
    THEME_TRAIN,
    THEME_VALID,
    THEME_GOOD,
    THEME_WARNING,
    THEME_ERROR,
    THEME_N_ROLES
} theme_role;

typedef enum { THEME_COLOR_DEFAULT, THEME_COLOR_INDEX, THEME_COLOR_RGB } theme_color_kind;

typedef struct {
    theme_color_kind kind;
    int value;   // INDEX: 0..255; RGB: 0xRRGGBB; DEFAULT: 0
} theme_color;

enum { THEME_BOLD = 1, THEME_DIM_ATTR = 2, THEME_ITALIC = 4, THEME_UNDERLINE = 8, THEME_REVERSE = 16 };

typedef struct {
    theme_color fg, bg;
    unsigned attrs;   // THEME_BOLD | ...
    int set;          // 1: the file gave this role a line
} theme_entry;

typedef struct {
    theme_entry role[THEME_N_ROLES];
} theme;

// The role's name in theme files ("bar_empty"), NULL out of range.
const char *theme_role_name(int r);

// Parses text (a whole file's contents, NUL-terminated). `file` names it in messages. Returns 0, or
// -1 with err = "FILE:LINE: what is wrong" (t is then all defaults).
int theme_parse(theme *t, const char *text, const char *file, char *err, size_t errlen);

// Reads and parses the file at path. Returns 0, or -1 with err (unreadable, or as theme_parse).
int theme_load(theme *t, const char *path, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// Where the themes are, decided here only (the interface reads them, `frost help --completion` writes
// the same order as shell text). The first that is a folder wins: $FROST_THEMES_DIR (when set, used
// even when missing: then only the built-ins exist), the folders beside the program (its checkout's
// themes/ beside build/, an installed PREFIX/share/frost/themes), then the system's.
#define THEME_DIR_ENV "FROST_THEMES_DIR"
// relative to the folder holding the program; NULL-ended
extern const char *const theme_dirs_beside_program[];
// absolute; NULL-ended
extern const char *const theme_dirs_system[];

// The themes folder into out (len bytes): "" when there is none.
void theme_dir_find(char *out, size_t len);

// A colour as a curses colour number for a terminal with `colors` colours (0, 8, 16, 88, 256, or
// 16777216 for direct colour): -1 for the default colour (and always when colors < 8); else
// 0..colors-1: the nearest the terminal has (xterm's palette values are assumed for indices; in 16
// and 8 colours a grey becomes black, white or one of the two palette greys, never a hue). In
// direct colour, indices 0-7 stay palette colours and everything else becomes 0xRRGGBB (at least 8).
int theme_color_fit(theme_color c, int colors);

// Both colours of a role fitted (as theme_color_fit); when they came out the same though the theme
// gave different colours (text that would vanish), the foreground becomes black or white, whichever
// stands out more from the background.
void theme_fit_pair(theme_color fg, theme_color bg, int colors, int *fg_out, int *bg_out);

// The RGB value xterm gives palette index i (0..255), as 0xRRGGBB.
int theme_index_rgb(int i);

#endif
