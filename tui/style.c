// style.c — colour roles and glyphs (see style.h). The theme files are read by core/settings/theme_file.c;
// here they are found, fitted to the terminal's colours (direct, 256, 16 or 8) and turned into
// colour pairs 1..N_ROLES. Built-in copies of dark and mono keep frost usable without the themes
// folder, and are what a malformed file falls back to. No colours (NO_COLOR, or a terminal without
// them): the mono theme, attributes only. Glyphs: UTF-8 when the locale's codeset is UTF-8 and
// FROST_ASCII is unset (or 0), else ASCII.
#include "style.h"

#include <dirent.h>
#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "theme_file.h"

_Static_assert((int)THEME_N_ROLES == (int)N_ROLES, "core/settings/theme_file.h's roles follow ui_role");
_Static_assert(N_ROLES <= STYLE_LAST_PAIR, "one colour pair a role");

// The same as themes/dark.theme and themes/mono.theme.
static const char BUILTIN_DARK[] =
    "text = default on default\ndim = 245\ntitle = #87d7ff bold\nselected = black on #87afd7\n"
    "keybar = black on #5f87af\nstatus = #d7d7af\nfrozen = #5f87d7\ntrainable = #87d75f\n"
    "partial = #d7af5f\nchanged = #d787d7 bold\nbar = #5fafd7\nbar_empty = 239\ntrain = #5fafff\n"
    "valid = #ffaf5f\ngood = #87d787 bold\nwarning = #ffd75f\nerror = #ff5f5f bold\n";
static const char BUILTIN_MONO[] =
    "text = normal\ndim = dim\ntitle = bold underline\nselected = reverse\nkeybar = reverse\n"
    "status = bold\nfrozen = dim\ntrainable = bold\npartial = underline\nchanged = bold underline\n"
    "bar = bold\nbar_empty = dim\ntrain = bold\nvalid = underline\ngood = bold\nwarning = bold underline\n"
    "error = bold reverse\n";

static int g_unicode = 1;
static int g_colors;       // 0, 8, 16, 256 or 16777216
static int g_default_ok;   // the terminal's default colours (-1) may be used in pairs
static attr_t g_attr[N_ROLES];
static char g_name[64];        // the theme's name: where the cycle is
static char g_shown[96];       // what style_theme_name says
static char g_dir[PATH_MAX];   // the themes folder, "" when there is none

// ---------------------------------------------------------------------------------------------
// finding the themes

static int cmp_names(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

// The themes to cycle through, sorted: the folder's *.theme, else the built-ins. Returns the count.
enum { MAX_THEMES = 64 };
static int list_themes(char names[][64]) {
    int n = 0;
    DIR *d = g_dir[0] ? opendir(g_dir) : NULL;
    if (d) {
        for (struct dirent *e; (e = readdir(d)) && n < MAX_THEMES;) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len <= 6 || len - 6 >= 64 || strcmp(e->d_name + len - 6, ".theme") != 0)
                continue;
            memcpy(names[n], e->d_name, len - 6);
            names[n++][len - 6] = '\0';
        }
        closedir(d);
    }
    if (n == 0) {
        snprintf(names[n++], 64, "dark");
        snprintf(names[n++], 64, "mono");
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    return n;
}

// ---------------------------------------------------------------------------------------------
// applying a theme

static attr_t curses_attrs(unsigned bits) {
    attr_t a = A_NORMAL;
    if (bits & THEME_BOLD) a |= A_BOLD;
    if (bits & THEME_DIM_ATTR) a |= A_DIM;
    if (bits & THEME_ITALIC) a |= A_ITALIC;
    if (bits & THEME_UNDERLINE) a |= A_UNDERLINE;
    if (bits & THEME_REVERSE) a |= A_REVERSE;
    return a;
}

static void apply(const theme *t) {
    const theme_entry *text = &t->role[THEME_TEXT];
    for (int r = 0; r < N_ROLES; r++) {
        const theme_entry *e = t->role[r].set ? &t->role[r] : text;
        attr_t a = curses_attrs(e->attrs);
        if (g_colors) {
            // "default" in a role other than text: the colour of text (the theme's background)
            theme_color fgc = e->fg.kind == THEME_COLOR_DEFAULT ? text->fg : e->fg;
            theme_color bgc = e->bg.kind == THEME_COLOR_DEFAULT ? text->bg : e->bg;
            int fg, bg;
            theme_fit_pair(fgc, bgc, g_colors, &fg, &bg);
            if (!g_default_ok) {
                if (fg < 0) fg = COLOR_WHITE;
                if (bg < 0) bg = COLOR_BLACK;
            }
            if (init_extended_pair(r + 1, fg, bg) == OK) a |= COLOR_PAIR(r + 1);
        }
        g_attr[r] = a;
    }
    bkgd(' ' | g_attr[ROLE_TEXT]);
}

static int parse_builtin(const char *name, theme *t) {
    const char *text = strcmp(name, "mono") == 0 ? BUILTIN_MONO : strcmp(name, "dark") == 0 ? BUILTIN_DARK : NULL;
    char err[256];
    return text && theme_parse(t, text, "built-in", err, sizeof err) == 0 ? 0 : -1;
}

static void use_builtin_dark(const char *cycle_name) {
    theme t;
    parse_builtin("dark", &t);
    apply(&t);
    snprintf(g_name, sizeof g_name, "%s", cycle_name);
    snprintf(g_shown, sizeof g_shown, "dark (built-in)");
}

// Loads the theme `name`: a file when it has a '/', else the folder's NAME.theme, else a built-in of
// that name. Returns 0, or -1 with msg (then the built-in dark is in use).
static int load(const char *name, char *msg, size_t msglen) {
    theme t;
    if (strchr(name, '/')) {   // a file of one's own, given by its path
        char err[PATH_MAX + 200];
        if (theme_load(&t, name, err, sizeof err) != 0) {
            snprintf(msg, msglen, "%s; using the built-in dark theme", err);
            use_builtin_dark("dark");
            return -1;
        }
        apply(&t);
        const char *base = strrchr(name, '/') + 1;
        size_t n = strcspn(base, ".");
        snprintf(g_name, sizeof g_name, "%.*s", (int)(n < 60 ? n : 60), base);
        snprintf(g_shown, sizeof g_shown, "%s", g_name);
        return 0;
    }
    if (!name[0] || strlen(name) >= sizeof g_name || name[0] == '.') {
        snprintf(msg, msglen, "theme '%.60s': not a theme name; using the built-in dark theme", name);
        use_builtin_dark("dark");
        return -1;
    }
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.theme", g_dir, name);
    if (g_dir[0] && access(path, F_OK) == 0) {
        char err[PATH_MAX + 200];
        if (theme_load(&t, path, err, sizeof err) != 0) {
            snprintf(msg, msglen, "%s; using the built-in dark theme", err);
            use_builtin_dark(name);
            return -1;
        }
    } else if (parse_builtin(name, &t) != 0) {
        if (g_dir[0])
            snprintf(msg, msglen, "no theme '%s' in %s; using the built-in dark theme", name, g_dir);
        else
            snprintf(msg, msglen, "no themes folder (set FROST_THEMES_DIR); using the built-in dark theme");
        use_builtin_dark("dark");
        return -1;
    }
    apply(&t);
    snprintf(g_name, sizeof g_name, "%s", name);
    snprintf(g_shown, sizeof g_shown, "%s", name);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// the API

int style_start(const char *name, char *msg, size_t msglen) {
    if (msglen) msg[0] = '\0';
    const char *cs = nl_langinfo(CODESET);
    const char *ascii = getenv("FROST_ASCII");
    g_unicode = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0) &&
                !(ascii && *ascii && strcmp(ascii, "0") != 0);
    // term.c starts colours unless NO_COLOR is set; COLORS stays 0 when it did not
    g_colors = 0;
    if (has_colors() && !getenv("NO_COLOR") && COLORS >= 8)
        g_colors = COLORS >= 0x1000000 ? 0x1000000 : COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : 8;
    g_default_ok = g_colors && use_default_colors() == OK;
    theme_dir_find(g_dir, sizeof g_dir);
    if (!g_colors) return load("mono", msg, msglen);
    if (!name || !*name) name = getenv("FROST_THEME");
    if (!name || !*name) name = "dark";
    return load(name, msg, msglen);
}

attr_t style(ui_role r) { return r >= 0 && r < N_ROLES ? g_attr[r] : A_NORMAL; }

int style_cycle(char *msg, size_t msglen) {
    if (!g_colors) {
        snprintf(msg, msglen, "no colours (NO_COLOR is set, or the terminal has none): the mono theme stays");
        return -1;
    }
    static char names[MAX_THEMES][64];
    int n = list_themes(names), next = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], g_name) == 0) next = (i + 1) % n;
    return load(names[next], msg, msglen);
}

const char *style_theme_name(void) { return g_shown; }
int style_colors(void) { return g_colors; }
int style_unicode(void) { return g_unicode; }

// ---------------------------------------------------------------------------------------------
// glyphs

const char *glyph(glyph_id g) {
    static const char *const U[N_GLYPHS] = {"\u2588", "\u2591", "\u2580", "\u2500", "\u2502",
                                            "\u250c", "\u2510", "\u2514", "\u2518", "\u25b8",
                                            "\u25be", "\u2744", "\u25cf", "\u25d0", "\u2717"};
    static const char *const A[N_GLYPHS] = {"#", ".", "\"", "-", "|", "+", "+", "+", "+", ">", "v", "*", "o", "~", "x"};
    return g >= 0 && g < N_GLYPHS ? (g_unicode ? U[g] : A[g]) : "?";
}

void style_bar(int y, int x, int width, double frac, ui_role filled) {
    if (width <= 0) return;
    if (!(frac >= 0)) frac = 0;   // NaN too
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
