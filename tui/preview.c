// preview.c — an image drawn with half-block cells (see preview.h).
//
// Each cell is GL_UPPER_HALF with the upper pixel as foreground and the lower one as background;
// with ASCII glyphs, a space whose background is the two pixels' mean. Colours: the pixel itself
// on a direct-colour terminal (ncurses' colour number is then 0xRRGGBB), else the nearest entry of
// xterm's 256-colour cube and grey ramp, else of the 8/16 ANSI colours. Colour pairs are made on
// demand above the theme's (STYLE_LAST_PAIR) through init_extended_pair, cached by (fg, bg), and
// all given back when a picture would not fit in what is left. Terminals with too few pairs (an
// 8-colour xterm has 64, all the theme's) show the info line only.
//
// Decoding runs once per file and box size (the result is kept), on a thumb_job (core) so that a
// big PNG never stalls the keys: the UI waits up to 40 ms for it (most images are ready by then),
// else shows "reading NAME..." and takes the picture on a later tick. One decode at a time.
#include "preview.h"

#include <curses.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "image_thumb.h"
#include "path.h"
#include "style.h"
#include "thumb_job.h"

// ---------------------------------------------------------------------------------------------
// The kept picture, and the one being decoded

typedef struct {
    char path[4096];
    int box_w, box_h;   // in pixels
    int ok;
    image_thumb t;
    thumb_info info;
    char err[256];
} decoded;

static decoded g_pic;          // what is shown (UI thread only)
static unsigned g_pic_gen;     // counts pictures taken: a new one may need pairs given back first
static unsigned g_drawn_gen;   // the picture the pairs were last made for

// One decode at a time, on a thumb_job (core): `g_job_for` says what it decodes.
static thumb_job *g_job;
static decoded g_job_for;   // path and box only

static int same(const decoded *d, const char *path, int box_w, int box_h) {
    return d->path[0] && strcmp(d->path, path) == 0 && d->box_w == box_w && d->box_h == box_h;
}

// Takes the finished decode as the shown picture.
static void job_take(void) {
    image_thumb_free(&g_pic.t);
    g_pic = g_job_for;
    g_pic.ok = thumb_job_result(g_job, &g_pic.t, &g_pic.info, g_pic.err, sizeof g_pic.err) == 0;
    thumb_job_free(g_job);
    g_job = NULL;
    g_pic_gen++;
}

static int job_finished(void) { return g_job && thumb_job_done(g_job); }

// The picture of path fitted into box_w x box_h, or NULL while it is being decoded. A small image
// is ready within the short wait below, so it shows without a "loading" frame; a big one is
// picked up by a later tick (the main loop redraws every 100 ms).
static const decoded *picture(const char *path, int box_w, int box_h) {
    if (same(&g_pic, path, box_w, box_h)) return &g_pic;
    if (job_finished()) {
        job_take();
        if (same(&g_pic, path, box_w, box_h)) return &g_pic;
    }
    if (g_job) return NULL;   // an older request still decoding: asked again next tick
    memset(&g_job_for, 0, sizeof g_job_for);
    snprintf(g_job_for.path, sizeof g_job_for.path, "%s", path);
    g_job_for.box_w = box_w;
    g_job_for.box_h = box_h;
    char err[256];
    g_job = thumb_job_start(path, box_w, box_h, err, sizeof err);
    if (!g_job) {   // no thread: say why instead of a picture
        image_thumb_free(&g_pic.t);
        g_pic = g_job_for;
        snprintf(g_pic.err, sizeof g_pic.err, "%s", err);
        g_pic_gen++;
        return &g_pic;
    }
    for (int i = 0; i < 40 && !job_finished(); i++) usleep(1000);
    if (!job_finished()) return NULL;
    job_take();
    return same(&g_pic, path, box_w, box_h) ? &g_pic : NULL;
}

// ---------------------------------------------------------------------------------------------
// Colours

static int sq(int v) { return v * v; }

// xterm's 256 colours: 16..231 a 6x6x6 cube, 232..255 a grey ramp
static int nearest_256(int r, int g, int b) {
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    int idx[3], v[3] = {r, g, b}, dist = 0;
    for (int c = 0; c < 3; c++) {
        int best = 0;
        for (int k = 1; k < 6; k++)
            if (abs(v[c] - level[k]) < abs(v[c] - level[best])) best = k;
        idx[c] = best;
        dist += sq(v[c] - level[best]);
    }
    int cube = 16 + 36 * idx[0] + 6 * idx[1] + idx[2];
    int grey = (r + g + b) / 3, gi = grey < 8 ? 0 : grey > 238 ? 23 : (grey - 8 + 5) / 10;
    int gv = 8 + 10 * gi, gdist = sq(r - gv) + sq(g - gv) + sq(b - gv);
    return gdist < dist ? 232 + gi : cube;
}

static int nearest_ansi(int r, int g, int b, int n) {
    static const uint8_t pal[16][3] = {{0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
                                       {0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
                                       {127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
                                       {92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255}};
    int best = 0, bd = 1 << 30;
    for (int i = 0; i < n; i++) {
        int d = sq(r - pal[i][0]) + sq(g - pal[i][1]) + sq(b - pal[i][2]);
        if (d < bd) bd = d, best = i;
    }
    return best;
}

static int colour_of(const uint8_t *p, int colors) {
    if (colors >= 16777216) {
        int v = (p[0] << 16) | (p[1] << 8) | p[2];
        return v < 8 ? 0 : v;   // 0..7 are the ANSI colours on a direct-colour terminal
    }
    if (colors >= 256) return nearest_256(p[0], p[1], p[2]);
    return nearest_ansi(p[0], p[1], p[2], colors >= 16 ? 16 : 8);
}

// ---------------------------------------------------------------------------------------------
// Colour pairs, made on demand and cached by (fg, bg)

#define PAIR_SLOTS 16384   // hash slots; at most half of them used
static struct {
    uint64_t key[PAIR_SLOTS];   // (fg + 1) << 32 | (bg + 1); 0 = empty
    int pair[PAIR_SLOTS];
    int next, used;
} g_pairs;

static int first_pair(void) { return STYLE_LAST_PAIR + 1; }
static int pair_capacity(void) {
    int cap = COLOR_PAIRS - first_pair();
    return cap < 0 ? 0 : cap > PAIR_SLOTS / 2 ? PAIR_SLOTS / 2 : cap;
}

static void pairs_forget(void) {
    memset(g_pairs.key, 0, sizeof g_pairs.key);
    g_pairs.next = first_pair();
    g_pairs.used = 0;
}

// The pair for fg on bg (-1: the terminal's default), or 0 when none is left.
static int pair_for(int fg, int bg) {
    uint64_t key = ((uint64_t)(uint32_t)(fg + 1) << 32) | (uint32_t)(bg + 1);
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 50) & (PAIR_SLOTS - 1);
    while (g_pairs.key[h]) {
        if (g_pairs.key[h] == key) return g_pairs.pair[h];
        h = (h + 1) & (PAIR_SLOTS - 1);
    }
    if (g_pairs.used >= pair_capacity()) return 0;
    int p = g_pairs.next;
    if (init_extended_pair(p, fg, bg) == ERR) return 0;
    g_pairs.next++;
    g_pairs.used++;
    g_pairs.key[h] = key;
    g_pairs.pair[h] = p;
    return p;
}

// ---------------------------------------------------------------------------------------------

int preview_draw(const char *path, int top, int left, int rows, int cols, char *info, size_t infolen) {
    if (!path || rows < 1 || cols < 1) {
        snprintf(info, infolen, "%s", path ? "no room for a preview" : "no image selected");
        return 0;
    }
    const decoded *pic = picture(path, cols, 2 * rows);
    if (!pic) {
        snprintf(info, infolen, _("reading %s..."), path_base(path));
        return 0;
    }
    if (!pic->ok) {
        snprintf(info, infolen, _("cannot show it: %s"), pic->err);
        return 0;
    }
    image_thumb_describe(&pic->info, info, infolen);
    return preview_draw_rgb(pic->t.rgb, pic->t.width, pic->t.height, g_pic_gen, top, left, cols);
}

int preview_draw_rgb(const uint8_t *rgb, int width, int height, unsigned id, int top, int left, int cols) {
    image_thumb view = {width, height, (uint8_t *)rgb}, *t = &view;
    int colors = style_colors();
    if (colors < 8 || pair_capacity() == 0) return 0;

    int used_rows = (t->height + 1) / 2, x0 = left + (cols - t->width) / 2;
    // the screen is redrawn whole every tick, so pairs of an earlier picture are free once another
    // one is drawn; the same picture again finds its pairs in the cache
    if (g_pairs.next == 0 || (g_drawn_gen != id && g_pairs.used + used_rows * t->width > pair_capacity()))
        pairs_forget();
    g_drawn_gen = id;
    int unicode = style_unicode();
    for (int cy = 0; cy < used_rows; cy++) {
        move(top + cy, x0);
        for (int x = 0; x < t->width; x++) {
            const uint8_t *up = t->rgb + ((size_t)(2 * cy) * t->width + x) * 3;
            const uint8_t *lo = 2 * cy + 1 < t->height ? up + (size_t)t->width * 3 : NULL;
            int pair;
            if (unicode) {
                pair = pair_for(colour_of(up, colors), lo ? colour_of(lo, colors) : -1);
            } else {
                uint8_t mean[3];
                for (int c = 0; c < 3; c++) mean[c] = (uint8_t)(lo ? (up[c] + lo[c] + 1) / 2 : up[c]);
                int col = colour_of(mean, colors);
                pair = pair_for(col, col);
            }
            attr_set(A_NORMAL, 0, &pair);
            addstr(unicode ? glyph(GL_UPPER_HALF) : " ");
        }
    }
    int zero = 0;
    attr_set(A_NORMAL, 0, &zero);
    return used_rows;
}

// ids of pictures made from files count up from 1; those given out here from the top bit, so the two
// never meet
unsigned preview_new_id(void) {
    static unsigned next = 0x80000000u;
    return next++;
}

void preview_reset(void) {
    thumb_job_free(g_job);   // waits for the one decode in flight
    g_job = NULL;
    image_thumb_free(&g_pic.t);
    memset(&g_pic, 0, sizeof g_pic);
    g_pic_gen++;
    pairs_forget();
    g_pairs.next = 0;   // nothing made yet: the next draw starts from the first free pair
}
