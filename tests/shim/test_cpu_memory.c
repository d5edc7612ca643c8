// test_cpu_memory.c — frost's CPU allocator (shim/cpu_allocator.cpp): a forward pass's large blocks,
// freed, are taken back by the next pass instead of being mapped afresh; the blocks in use and the
// kept ones never add up to more than the most asked for at once; reused memory gives the same
// features bit for bit; freeing the model gives the kept blocks back. Under AddressSanitizer large
// blocks are ASan's (an overflow or a use after free inside tensor data is reported: asan_* tests).
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sanitizers/exit_status.h"
#include "frost_torch.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#define N 8
#define S 112   // conv1's output is 8 x 64 x 56 x 56 floats: 6.4 MB, a block of its own

static void forward(ft_model *m, const float *x, float *out, size_t len) {
    ft_status *s = ft_model_features(m, x, N, 3, S, S, out, len);
    cr_assert_null(s, "%s", ft_status_message(s));
}

// A new resnet18, or NULL (said) when frost's allocator is not in place: FROST_HUGEPAGES=0.
static ft_model *resnet18_under_frosts_allocator(void) {
    const char *off = getenv("FROST_HUGEPAGES");
    ft_cpu_memory st;
    ft_cpu_memory_stats(&st);
    cr_assert_eq(st.active, !(off && strcmp(off, "0") == 0), "frost's allocator in place unless FROST_HUGEPAGES=0");
    if (!st.active) {
        cr_log_info("FROST_HUGEPAGES=0: libtorch's own allocator, nothing of frost's to check");
        return NULL;
    }
#if defined(__SANITIZE_ADDRESS__)
    cr_log_info("AddressSanitizer: large blocks are its own, not frost's mappings (checked by the asan_* tests)");
    return NULL;
#endif
    ft_model *m = NULL;
    ft_status *s = ft_model_create("resnet18", &m);
    cr_assert_null(s, "%s", ft_status_message(s));
    return m;
}

Test(cpu_memory, forward_passes_reuse_their_blocks_within_the_high_water_mark, .timeout = 60) {
    ft_model *m = resnet18_under_frosts_allocator();
    if (!m) return;
    ft_model_set_mode(m, 0, 1);
    size_t in = (size_t)N * 3 * S * S, len = (size_t)N * (size_t)ft_model_feature_size(m);
    float *x = malloc(in * sizeof *x), *first = malloc(len * sizeof *first), *later = malloc(len * sizeof *later);
    cr_assert(x && first && later);
    for (size_t i = 0; i < in; i++) x[i] = (float)(i % 97) / 48.0f - 1.0f;

    ft_cpu_memory before, after_one, after_four;
    ft_cpu_memory_stats(&before);
    forward(m, x, first, len);
    ft_cpu_memory_stats(&after_one);
    for (int k = 0; k < 3; k++) forward(m, x, later, len);
    ft_cpu_memory_stats(&after_four);

    uint64_t mapped_first = after_one.mapped - before.mapped, mapped_later = after_four.mapped - after_one.mapped;
    uint64_t reused_later = after_four.reused - after_one.reused;
    cr_log_info("first pass: %llu new mappings; the next three: %llu new, %llu reused; in use %zu + kept %zu of %zu",
                (unsigned long long)mapped_first, (unsigned long long)mapped_later, (unsigned long long)reused_later,
                after_four.in_use, after_four.kept, after_four.most_asked);
    cr_expect_gt(mapped_first, 0, "the first pass maps its activations");
    cr_expect_gt(reused_later, mapped_later, "later passes take kept blocks back more than they map (%llu, %llu)",
                 (unsigned long long)reused_later, (unsigned long long)mapped_later);
    cr_expect_gt(after_four.kept, 0, "the freed activations are kept");
    cr_expect_leq(after_four.in_use + after_four.kept, after_four.most_asked,
                  "in use %zu + kept %zu over the most asked for at once, %zu", after_four.in_use, after_four.kept,
                  after_four.most_asked);
    cr_expect_eq(memcmp(first, later, len * sizeof *first), 0, "reused blocks give the same features bit for bit");

    ft_model_free(m);
    ft_cpu_memory end;
    ft_cpu_memory_stats(&end);
    cr_expect_eq(end.kept, 0, "freeing the model gives the kept blocks back (%zu kept)", end.kept);
    free(x);
    free(first);
    free(later);
}

// A block of exactly N huge pages is mapped as N of them: what frost knows of a mapping is kept beside
// it, not in a header that would spill into one more page (2 MB more for a 2 MB tensor).
Test(cpu_memory, a_block_of_whole_huge_pages_maps_no_more, .timeout = 60) {
    ft_model *m = resnet18_under_frosts_allocator();
    if (!m) return;
    ft_status *s = ft_model_replace_head(m, 1);   // fc: 512 weights, a small block
    cr_assert_null(s, "%s", ft_status_message(s));
    ft_cpu_memory before, after;
    ft_cpu_memory_stats(&before);
    s = ft_model_replace_head(m, 1024);   // fc's weight: 1024 x 512 floats, exactly 2 MB
    cr_assert_null(s, "%s", ft_status_message(s));
    ft_cpu_memory_stats(&after);
    cr_expect_eq(after.in_use - before.in_use, (size_t)2 << 20, "the 2 MB weight takes %zu bytes of mappings",
                 after.in_use - before.in_use);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// under AddressSanitizer

#define BLOCK ((size_t)(3u << 20) + 12)   // a block of its own (1 MB and up), not a whole number of pages

// A block as big as activations is ASan's: no mapping of frost's, a redzone right after its last byte,
// poisoned once freed.
Test(cpu_memory, asan_large_blocks_are_asans) {
#if !defined(__SANITIZE_ADDRESS__)
    cr_skip_test("built without AddressSanitizer: large blocks are frost's mappings (the tests above)");
#else
    ft_cpu_memory before, after;
    ft_cpu_memory_stats(&before);
    char *p = ft_cpu_block_new(BLOCK);
    cr_assert_not_null(p);
    ft_cpu_memory_stats(&after);
    cr_expect_eq(after.mapped, before.mapped, "no mapping of frost's");
    cr_expect_eq(after.in_use, before.in_use, "no mapping of frost's in use");
    memset(p, 1, BLOCK);
    cr_expect_eq(__asan_address_is_poisoned(p + BLOCK - 1), 0, "its last byte is the block's");
    cr_expect_eq(__asan_address_is_poisoned(p + BLOCK), 1, "a redzone right after it");
    ft_cpu_block_free(p);
    cr_expect_eq(__asan_address_is_poisoned(p), 1, "freed, it is poisoned");
#endif
}

#if defined(__SANITIZE_ADDRESS__)
// In a child: a block from the tensors' allocator, filled, then defect(block).
static void fill_then(const void *defect) {
    char *p = ft_cpu_block_new(BLOCK);
    if (!p) _exit(3);
    memset(p, 7, BLOCK);
    (*(void (*const *)(char *, size_t))defect)(p, BLOCK);
}

static void use_after_free(char *p, size_t n) {
    ft_cpu_block_free(p);
    ((volatile char *)p)[n / 2] = 1;
}

static void write_past_the_end(char *p, size_t n) {
    ((volatile char *)p)[n] = 1;
    ft_cpu_block_free(p);
}
#endif

// A tensor block written after it was freed, and one written one byte past its end: ASan reports
// each, and ends the child with its own status.
Test(cpu_memory, asan_reports_use_after_free_and_overflow_in_a_tensor_block, .timeout = 60) {
#if !defined(__SANITIZE_ADDRESS__)
    cr_skip_test("built without AddressSanitizer: nothing would report it");
#else
    static const struct {
        void (*defect)(char *, size_t);
        const char *report;
    } cases[] = {{use_after_free, "ERROR: AddressSanitizer: heap-use-after-free"},
                 {write_past_the_end, "ERROR: AddressSanitizer: heap-buffer-overflow"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *err = NULL;
        int status = tu_child_stderr(fill_then, &cases[k].defect, &err);
        cr_expect_eq(status, SAN_EXIT_ASAN, "exit %d (AddressSanitizer's is %d):\n%s", status, SAN_EXIT_ASAN,
                     err ? err : "");
        cr_expect(err && strstr(err, cases[k].report), "no '%s':\n%s", cases[k].report, err ? err : "");
        cr_expect(err && strstr(err, "ft_cpu_block_new"), "the block was allocated through the shim:\n%s",
                  err ? err : "");
        cr_expect_not_null(tu_sanitizer_report(err), "the test helpers see it:\n%s", err ? err : "");
        free(err);
    }
#endif
}
