// text_escape.c — see text_escape.h.
#include "text_escape.h"

#include <stdio.h>
#include <string.h>

size_t text_plain_char(const unsigned char *s) {
    unsigned c = s[0];
    if (c >= 0x20 && c < 0x7f) return 1;
    if (c < 0x80) return 0;   // C0 controls, DEL
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (n == 0) return 0;   // a stray continuation byte, an overlong lead, 0xf5 and up
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xc0) != 0x80) return 0;
    if (n == 2 && c == 0xc2 && s[1] < 0xa0) return 0;    // U+0080..U+009F: C1 controls
    if (n == 3 && c == 0xe0 && s[1] < 0xa0) return 0;    // overlong
    if (n == 3 && c == 0xed && s[1] >= 0xa0) return 0;   // UTF-16 surrogates
    if (n == 4 && c == 0xf0 && s[1] < 0x90) return 0;    // overlong
    if (n == 4 && c == 0xf4 && s[1] >= 0x90) return 0;   // past U+10FFFF
    return n;
}

size_t text_escape(char *out, size_t outlen, const char *in) {
    if (!outlen) return 0;
    size_t used = 0;
    const unsigned char *s = (const unsigned char *)in;
    while (*s) {
        char piece[8];
        size_t n = text_plain_char(s), len;
        if (n) {
            memcpy(piece, s, n);
            len = n;
        } else {
            n = 1;
            len = (size_t)(*s == '\n'   ? snprintf(piece, sizeof piece, "\\n")
                           : *s == '\r' ? snprintf(piece, sizeof piece, "\\r")
                           : *s == '\t' ? snprintf(piece, sizeof piece, "\\t")
                                        : snprintf(piece, sizeof piece, "\\x%02x", *s));
        }
        if (used + len >= outlen) break;
        memcpy(out + used, piece, len);
        used += len;
        s += n;
    }
    out[used] = '\0';
    return used;
}
