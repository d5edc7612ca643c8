// fuzz_lesson.c — libFuzzer target: bytes as a lesson file's text (a teacher's own, --lesson-file), read
// in English and in Chinese.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char *text = malloc(len + 1);
    if (!text) return 0;
    memcpy(text, data, len);
    text[len] = '\0';
    char err[512];
    for (int k = 0; k < 2; k++) {
        lesson l;
        if (lesson_parse(text, "fuzz.lesson", k ? "zh_CN" : "", &l, err, sizeof err) == 0) {
            for (size_t i = 0; i < l.n; i++) {   // every step says what to do
                char task[400];
                lesson_instruction(&l.steps[i], task, sizeof task);
            }
            lesson_free(&l);
        }
    }
    free(text);
    return 0;
}
