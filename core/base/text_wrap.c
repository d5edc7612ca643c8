// text_wrap.c — see text_wrap.h.
#define _XOPEN_SOURCE 700   // wcwidth
#include "text_wrap.h"

#include <string.h>
#include <wchar.h>

// The character at s (UTF-8): its length in bytes (1 for a byte that starts no valid character), its
// columns, and in *wc_out (may be NULL) the character (0 when the locale cannot read it).
static size_t char_at_wc(const char *s, int *cols, wchar_t *wc_out) {
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc = (unsigned char)s[0] < 0x80 ? (wchar_t)s[0] : 0;
    if (wc_out) *wc_out = wc;
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    for (size_t k = 1; k < n; k++)
        if (((unsigned char)s[k] & 0xc0) != 0x80) n = 1;
    *cols = 1;
    if (c >= 0x20 && c < 0x7f) return 1;
    size_t got = mbrtowc(&wc, s, n, &st);
    if (got == n) {   // the locale reads it: its own width (0 for a combining mark, 2 for CJK)
        int w = wcwidth(wc);
        if (w >= 0) *cols = w;
        if (wc_out) *wc_out = wc;
    }
    return n;
}

static size_t char_at(const char *s, int *cols) { return char_at_wc(s, cols, NULL); }

// Chinese and Japanese text has no spaces: a line may break between any two wide characters, except
// before closing punctuation and after opening punctuation (the commonest of the rules, kinsoku).
static int no_line_start(wchar_t c) {
    return c && wcschr(L"\uff0c\u3002\u3001\uff1b\uff1a\uff09\u300d\u300f\uff01\uff1f\u3011\u300b", c);
}
static int no_line_end(wchar_t c) { return c && wcschr(L"\uff08\u300c\u300e\u3010\u300a", c); }

int text_columns(const char *s, size_t n) {
    int cols = 0;
    for (size_t i = 0; i < n && s[i];) {
        int w;
        i += char_at(s + i, &w);
        cols += w;
    }
    return cols;
}

size_t text_fit(const char *s, int width, int *cols) {
    size_t i = 0;
    int used = 0;
    while (s[i]) {
        int w;
        size_t n = char_at(s + i, &w);
        if (used + w > width) break;
        used += w;
        i += n;
    }
    if (cols) *cols = used;
    return i;
}

size_t text_wrap_line(const char *text, int width, size_t *next) {
    size_t i = 0, fits = 0, brk = 0;   // brk: the end of the last whole word that fits (0: none yet)
    int cols = 0;
    if (width < 1) width = 1;
    int prev_w = 0;
    wchar_t prev = 0;
    while (text[i] && text[i] != '\n') {
        int w;
        wchar_t c;
        size_t n = char_at_wc(text + i, &w, &c);
        if (i > 0 && text[i] != ' ' && text[i - 1] != ' ' && (w == 2 || prev_w == 2) && !no_line_start(c) &&
            !no_line_end(prev))
            brk = i;   // between wide characters: a line may end here
        if (text[i] == ' ') brk = i;
        if (cols + w > width) {
            if (text[i] == ' ' || brk == 0) brk = text[i] == ' ' ? i : fits;   // cut here
            break;
        }
        cols += w;
        i += n;
        fits = i;
        prev_w = w, prev = c;
    }
    size_t end;
    if (!text[i] || text[i] == '\n') {   // the rest fits
        end = i;
        i += text[i] == '\n';
    } else {
        end = brk ? brk : fits;
        if (end == 0) end = fits = char_at(text, &cols);   // not even one character fits: take one
        i = end;
        while (text[i] == ' ') i++;
        i += text[i] == '\n' && i > end;
    }
    while (end > 0 && text[end - 1] == ' ') end--;
    *next = i;
    return end;
}

int text_wrap_count(const char *text, int width) {
    int lines = 0;
    for (size_t at = 0; text[at];) {
        size_t next;
        text_wrap_line(text + at, width, &next);
        at += next;
        lines++;
    }
    return lines;
}

char *text_pad(char *out, size_t len, const char *s, int width) {
    if (!len) return out;
    size_t n = text_fit(s, width, NULL);
    if (n >= len) n = len - 1;   // (a buffer too small for the text: cut at a character that fits it)
    while (n > 0 && (s[n] & 0xC0) == 0x80) n--;
    memcpy(out, s, n);
    int cols = text_columns(s, n);
    while (cols < width && n + 1 < len) out[n++] = ' ', cols++;
    out[n] = '\0';
    return out;
}
