// test_cpu_memory.c — frost's CPU allocator (shim/cpu_allocator.cpp): a forward pass's large blocks,
// freed, are taken back by the next pass instead of being mapped afresh; the blocks in use and the
// kept ones never add up to more than the most asked for at once; reused memory gives the same
// features bit for bit; freeing the model gives the kept blocks back.
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"

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
