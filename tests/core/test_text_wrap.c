// test_text_wrap.c — text broken into lines at spaces to fit a width (text_wrap.h): every line fits,
// no word is lost or split while it fits a line, a "\n" ends a line, widths are columns (UTF-8).
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "text_wrap.h"

// The lines of text at width, joined with "|".
static const char *wrapped(const char *text, int width) {
    static char out[1024];
    size_t used = 0;
    out[0] = '\0';
    for (size_t at = 0; text[at];) {
        size_t next, n = text_wrap_line(text + at, width, &next);
        cr_assert_gt(next, 0, "no progress at '%s'", text + at);
        cr_expect_leq(text_columns(text + at, n), width > 0 ? width : 1, "'%.*s' is wider than %d", (int)n, text + at,
                      width);
        used += (size_t)snprintf(out + used, sizeof out - used, "%s%.*s", used ? "|" : "", (int)n, text + at);
        at += next;
    }
    return out;
}

Test(text_wrap, breaks_at_the_last_space_that_fits) {
    cr_expect_str_eq(wrapped("or a larger learning rate help", 12), "or a larger|learning|rate help");
    cr_expect_str_eq(wrapped("fits", 10), "fits");
    cr_expect_str_eq(wrapped("exactly ten", 11), "exactly ten");
    cr_expect_str_eq(wrapped("exactly ten", 10), "exactly|ten");
    cr_expect_eq(text_wrap_count("or a larger learning rate help", 12), 3);
    cr_expect_eq(text_wrap_count("", 12), 0);
}

Test(text_wrap, a_newline_ends_a_line_and_spaces_at_a_break_go) {
    cr_expect_str_eq(wrapped("one\ntwo three", 20), "one|two three");
    cr_expect_str_eq(wrapped("one two   three", 7), "one two|three");
    cr_expect_str_eq(wrapped("one two \nthree", 7), "one two|three");
}

Test(text_wrap, a_word_wider_than_the_line_is_cut) {
    cr_expect_str_eq(wrapped("abcdefghij k", 4), "abcd|efgh|ij k");
    cr_expect_str_eq(wrapped("x", 0), "x");   // at least one character a line
}

Test(text_wrap, widths_are_columns_not_bytes) {
    cr_assert_not_null(setlocale(LC_ALL, "C.UTF-8"));
    // "é" is 2 bytes and 1 column; "狗" 3 bytes and 2 columns
    cr_expect_eq(text_columns("été", strlen("été")), 3);
    cr_expect_eq(text_columns("狗狗", strlen("狗狗")), 4);
    cr_expect_str_eq(wrapped("été été", 3), "été|été");
    cr_expect_str_eq(wrapped("狗狗 a", 4), "狗狗|a");
    cr_expect_str_eq(wrapped("狗狗狗", 5), "狗狗|狗");   // never half of a wide character
    int cols;
    cr_expect_eq(text_fit("狗狗狗", 5, &cols), strlen("狗狗"), "never half of a wide character");
    cr_expect_eq(cols, 4);
    cr_expect_eq(text_fit("été", 2, &cols), strlen("ét"));
    cr_expect_eq(cols, 2);
    cr_expect_eq(text_fit("ab", 9, NULL), 2);
    setlocale(LC_ALL, "C");
    cr_expect_eq(text_columns("été", strlen("été")), 3, "unknown to the locale: a column each");
    cr_expect_eq(text_fit("狗狗狗", 2, &cols), strlen("狗狗"), "unknown to the locale: a column each");
    cr_expect_eq(cols, 2);
}

// text_pad: printf's "%-*.*s" in columns. The widths here are the terminal's: Chinese characters two
// columns each, as wcwidth says in a UTF-8 locale (and as tmux draws them: tests/tui/test_language.c).
Test(text_wrap, padded_to_columns_not_bytes) {
    cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
    char out[64];
    cr_expect_str_eq(text_pad(out, sizeof out, "cat", 6), "cat   ");
    cr_expect_str_eq(text_pad(out, sizeof out, "猫咪", 6), "猫咪  ", "two characters of two columns, then 2 blanks");
    cr_expect_str_eq(text_pad(out, sizeof out, "小猫第1张照片", 6), "小猫第", "cut at a whole character");
    cr_expect_str_eq(text_pad(out, sizeof out, "小猫第1张照片", 5), "小猫 ",
                     "a character that would straddle the edge leaves a blank");
    cr_expect_str_eq(text_pad(out, sizeof out, "", 3), "   ");
    cr_expect_str_eq(text_pad(out, sizeof out, "anything", 0), "");
    // a buffer too small for the width: cut at a character boundary, never inside one
    char small[5];
    text_pad(small, sizeof small, "猫咪猫咪", 8);
    cr_expect_str_eq(small, "猫 ", "4 bytes hold one 3-byte character, no half of the next, and a blank");
}

// Chinese has no spaces: lines break between its characters, never before a closing mark (，。）)
// nor after an opening one (（); English in it still breaks at its spaces only.
Test(text_wrap, chinese_breaks_between_characters) {
    cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
    const char *text = "从该架构的 ImageNet 权重开始（已缓存则直接使用，否则下载）；使用 ImageNet 的均值";
    char lines[1024];
    snprintf(lines, sizeof lines, "%s", wrapped(text, 20));
    cr_expect_str_eq(lines, "从该架构的 ImageNet|权重开始（已缓存则直|接使用，否则下载）；|使用 ImageNet 的均值", "%s",
                     lines);
    // every line but the last fills its width but for a character: no early break at a space
    for (const char *p = lines; strchr(p, '|'); p = strchr(p, '|') + 1) {
        int cols = text_columns(p, (size_t)(strchr(p, '|') - p));
        cr_expect_geq(cols, 18, "'%.*s' is %d columns of 20", (int)(strchr(p, '|') - p), p, cols);
    }
    cr_expect_str_eq(wrapped("一二三四，五六", 8), "一二三|四，五六", "no line starts with a comma: 四 goes with it");
    cr_expect_str_eq(wrapped("一二三（四五", 8), "一二三|（四五", "no line ends with an opening bracket");
    cr_expect_str_eq(wrapped("the lr finder", 8), "the lr|finder", "English as before");
}
