// fuzz_theme.c — libFuzzer target: bytes as a theme file's text.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "theme_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char *text = malloc(len + 1);
    if (!text) return 0;
    memcpy(text, data, len);
    text[len] = '\0';
    theme t;
    char err[512];
    theme_parse(&t, text, "fuzz.theme", err, sizeof err);
    free(text);
    return 0;
}
