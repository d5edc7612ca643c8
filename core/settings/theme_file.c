// theme_file.c — theme files read into a role table, and colours fitted to a terminal (see
// theme_file.h). Our own small parser: the format is a handful of words a line, not worth a
// configuration library. Nearest colours are plain Euclidean distance in RGB, which is what the
// xterm cube was laid out for; good enough to keep a theme recognisable in 16 or 8 colours.
#include "theme_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "path.h"
#include "regular_file.h"

static const char *const ROLE_NAMES[THEME_N_ROLES] = {
    "text",    "dim", "title",     "selected", "keybar", "status", "frozen",  "trainable", "partial",
    "changed", "bar", "bar_empty", "train",    "valid",  "good",   "warning", "error",
};

const char *theme_role_name(int r) { return r >= 0 && r < THEME_N_ROLES ? ROLE_NAMES[r] : NULL; }

static const char *const COLOR_NAMES[8] = {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};

static const struct {
    const char *name;
    unsigned bit;
} ATTRS[] = {{"bold", THEME_BOLD},           {"dim", THEME_DIM_ATTR},    {"italic", THEME_ITALIC},
             {"underline", THEME_UNDERLINE}, {"reverse", THEME_REVERSE}, {"normal", 0}};

// ---------------------------------------------------------------------------------------------
// parsing

// A colour word: 1 (c set), 0 (not a colour).
static int parse_color(const char *w, theme_color *c) {
    if (strcmp(w, "default") == 0) {
        *c = (theme_color){THEME_COLOR_DEFAULT, 0};
        return 1;
    }
    int bright = strncmp(w, "bright-", 7) == 0;
    for (int i = 0; i < 8; i++)
        if (strcmp(w + (bright ? 7 : 0), COLOR_NAMES[i]) == 0) {
            *c = (theme_color){THEME_COLOR_INDEX, i + (bright ? 8 : 0)};
            return 1;
        }
    if (w[0] == '#' && strlen(w) == 7) {
        for (int i = 1; i < 7; i++)
            if (!isxdigit((unsigned char)w[i])) return 0;
        *c = (theme_color){THEME_COLOR_RGB, (int)strtol(w + 1, NULL, 16)};
        return 1;
    }
    if (isdigit((unsigned char)w[0]) && strlen(w) <= 3) {
        for (const char *p = w; *p; p++)
            if (!isdigit((unsigned char)*p)) return 0;
        int v = atoi(w);
        if (v > 255) return 0;
        *c = (theme_color){THEME_COLOR_INDEX, v};
        return 1;
    }
    return 0;
}

static int parse_attr(const char *w, unsigned *bits) {
    for (size_t i = 0; i < sizeof ATTRS / sizeof ATTRS[0]; i++)
        if (strcmp(w, ATTRS[i].name) == 0) {
            *bits |= ATTRS[i].bit;
            return 1;
        }
    return 0;
}

// Cuts the next whitespace-separated word out of *p (NUL-terminating it in place); NULL at the end.
static char *next_word(char **p) {
    char *s = *p;
    while (*s && isspace((unsigned char)*s)) s++;
    if (!*s) return NULL;
    char *w = s;
    while (*s && !isspace((unsigned char)*s)) s++;
    if (*s) *s++ = '\0';
    *p = s;
    return w;
}

// One non-blank, non-comment line (modified in place). Returns 0, or -1 with err.
static int parse_line(theme *t, char *line, int *first_line, int lineno, const char *file, char *err, size_t errlen) {
    char *eq = strchr(line, '=');
    if (!eq) {
        errmsg_set(err, errlen, "%s:%d: expected 'ROLE = COLOUR [on COLOUR] [ATTRIBUTES]'", file, lineno);
        return -1;
    }
    *eq = '\0';
    char *p = line;
    char *role = next_word(&p);
    char *extra = role ? next_word(&p) : NULL;
    if (!role || extra) {
        errmsg_set(err, errlen, "%s:%d: expected one role name before '='", file, lineno);
        return -1;
    }
    int r = 0;
    while (r < THEME_N_ROLES && strcmp(role, ROLE_NAMES[r]) != 0) r++;
    if (r == THEME_N_ROLES) {
        errmsg_set(err, errlen, "%s:%d: unknown role '%s'", file, lineno, role);
        return -1;
    }
    if (t->role[r].set) {
        errmsg_set(err, errlen, "%s:%d: role '%s' given twice (first on line %d)", file, lineno, role, first_line[r]);
        return -1;
    }
    theme_entry e = {.set = 1};
    int have_fg = 0, have_bg = 0, words = 0;
    p = eq + 1;
    for (char *w; (w = next_word(&p)); words++) {
        if (strcmp(w, "on") == 0) {
            char *c = next_word(&p);
            if (!c) {
                errmsg_set(err, errlen, "%s:%d: 'on' needs a background colour after it", file, lineno);
                return -1;
            }
            if (have_bg) {
                errmsg_set(err, errlen, "%s:%d: two background colours", file, lineno);
                return -1;
            }
            if (!parse_color(c, &e.bg)) {
                errmsg_set(err, errlen, "%s:%d: unknown colour '%s'", file, lineno, c);
                return -1;
            }
            have_bg = 1;
        } else if (parse_attr(w, &e.attrs)) {
            // an attribute
        } else if (parse_color(w, &e.fg)) {
            if (have_fg || have_bg) {
                errmsg_set(err, errlen, "%s:%d: colour '%s': one foreground, then 'on' BACKGROUND", file, lineno, w);
                return -1;
            }
            have_fg = 1;
        } else {
            errmsg_set(err, errlen, "%s:%d: unknown colour '%s'", file, lineno, w);
            return -1;
        }
    }
    if (!words) {
        errmsg_set(err, errlen, "%s:%d: role '%s' has no colour or attribute", file, lineno, role);
        return -1;
    }
    t->role[r] = e;
    first_line[r] = lineno;
    return 0;
}

int theme_parse(theme *t, const char *text, const char *file, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    int first_line[THEME_N_ROLES] = {0};
    int lineno = 0;
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        lineno++;
        char line[1024];
        if (n >= sizeof line) {
            errmsg_set(err, errlen, "%s:%d: line too long", file, lineno);
            memset(t, 0, sizeof *t);
            return -1;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        s += n + (nl ? 1 : 0);
        if (n && line[n - 1] == '\r') line[n - 1] = '\0';
        const char *q = line;
        while (*q && isspace((unsigned char)*q)) q++;
        if (!*q || *q == '#') continue;
        if (parse_line(t, line, first_line, lineno, file, err, errlen) != 0) {
            memset(t, 0, sizeof *t);
            return -1;
        }
    }
    return 0;
}

int theme_load(theme *t, const char *path, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    struct stat st;
    char why[256];
    int fd = regular_file_open(path, &st, why, sizeof why);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        errmsg_set(err, errlen, "%s: %s", path, fd >= 0 ? strerror(errno) : why);
        return -1;
    }
    // a theme is a few hundred bytes; 64 KiB is plenty and keeps a wrong file from being slurped
    enum { MAX = 64 * 1024 };
    char *buf = malloc(MAX + 1);
    if (!buf) {
        fclose(f);
        errmsg_set(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > MAX || memchr(buf, '\0', n)) {
        free(buf);
        errmsg_set(err, errlen, "%s: %s", path, bad ? "cannot read it" : "not a theme file (too big, or binary)");
        return -1;
    }
    buf[n] = '\0';
    int rc = theme_parse(t, buf, path, err, errlen);
    free(buf);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// fitting colours to the terminal

static const int CUBE[6] = {0, 95, 135, 175, 215, 255};
static const int BASE16[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
                               0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};

int theme_index_rgb(int i) {
    if (i < 0 || i > 255) return 0;
    if (i < 16) return BASE16[i];
    if (i >= 232) {
        int g = 8 + 10 * (i - 232);
        return g << 16 | g << 8 | g;
    }
    i -= 16;
    return CUBE[i / 36] << 16 | CUBE[i / 6 % 6] << 8 | CUBE[i % 6];
}

static long dist2(int a, int b) {
    long dr = (a >> 16 & 255) - (b >> 16 & 255), dg = (a >> 8 & 255) - (b >> 8 & 255), db = (a & 255) - (b & 255);
    return dr * dr + dg * dg + db * db;
}

static int nearest_of(int rgb, int first, int count) {
    int best = first;
    for (int i = first; i < first + count; i++)
        if (dist2(rgb, theme_index_rgb(i)) < dist2(rgb, theme_index_rgb(best))) best = i;
    return best;
}

int theme_color_fit(theme_color c, int colors) {
    if (c.kind == THEME_COLOR_DEFAULT || colors < 8) return -1;
    int rgb = c.kind == THEME_COLOR_RGB ? c.value & 0xffffff : theme_index_rgb(c.value);
    if (colors >= 0x1000000) {
        if (c.kind == THEME_COLOR_INDEX && c.value < 8) return c.value;
        return rgb < 8 ? 8 : rgb;   // values below 8 would be read as palette colours 0-7
    }
    if (colors >= 256) return c.kind == THEME_COLOR_INDEX ? c.value : nearest_of(rgb, 16, 240);
    int n = colors >= 16 ? 16 : 8;
    if (c.kind == THEME_COLOR_INDEX && c.value < n) return c.value;
    if (c.kind == THEME_COLOR_INDEX && c.value < 16) return c.value - 8;   // bright -> its plain colour
    int r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
    int hi = r > g ? (r > b ? r : b) : (g > b ? g : b), lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
    if (hi - lo < 32) {   // a grey: black or white (and the two greys in 16), never a hue
        if (n == 8) return (r + g + b) / 3 < 128 ? 0 : 7;
        static const int greys[4] = {0, 8, 7, 15};
        int best = 0;
        for (int i = 1; i < 4; i++)
            if (dist2(rgb, theme_index_rgb(greys[i])) < dist2(rgb, theme_index_rgb(greys[best]))) best = i;
        return greys[best];
    }
    return nearest_of(rgb, 0, n);
}

void theme_fit_pair(theme_color fg, theme_color bg, int colors, int *fg_out, int *bg_out) {
    *fg_out = theme_color_fit(fg, colors);
    *bg_out = theme_color_fit(bg, colors);
    if (*fg_out < 0 || *fg_out != *bg_out) return;
    int want_fg = fg.kind == THEME_COLOR_RGB ? fg.value : theme_index_rgb(fg.value);
    int want_bg = bg.kind == THEME_COLOR_RGB ? bg.value : theme_index_rgb(bg.value);
    if (want_fg == want_bg) return;   // the theme asked for it
    // text would vanish: black or white, whichever stands out more from the background
    int black = theme_color_fit((theme_color){THEME_COLOR_INDEX, 0}, colors);
    int white = theme_color_fit((theme_color){THEME_COLOR_INDEX, 15}, colors);
    int bg_rgb = colors >= 0x1000000 && *bg_out >= 8 ? *bg_out : theme_index_rgb(*bg_out);
    *fg_out = dist2(bg_rgb, 0x000000) > dist2(bg_rgb, 0xffffff) ? black : white;
}

// ---------------------------------------------------------------------------------------------
// where the themes are

const char *const theme_dirs_beside_program[] = {"../themes", "../share/frost/themes", NULL};
const char *const theme_dirs_system[] = {"/usr/local/share/frost/themes", "/usr/share/frost/themes", NULL};

void theme_dir_find(char *out, size_t len) {
    if (!len) return;
    out[0] = '\0';
    const char *env = getenv(THEME_DIR_ENV);
    if (env && *env) {
        if ((size_t)snprintf(out, len, "%s", env) >= len) out[0] = '\0';
        return;
    }
    if (path_beside_program(out, len, theme_dirs_beside_program, path_is_dir) == 0) return;
    for (size_t i = 0; theme_dirs_system[i]; i++)
        if (strlen(theme_dirs_system[i]) < len && path_is_dir(theme_dirs_system[i])) {
            memcpy(out, theme_dirs_system[i], strlen(theme_dirs_system[i]) + 1);
            return;
        }
}
