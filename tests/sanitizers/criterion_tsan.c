// criterion_tsan.c — linked into the test program built with SANITIZE=thread, so that Criterion can
// start under ThreadSanitizer.
//
// Criterion (its BoxFort sandbox) maps the arena it shares with each test's process at an address it
// draws at random: rand_r() picks one of the 16 MB steps from 0x200000000000 to 0x600000000000, and it
// gives up after 10 that are taken ("Could not initialize inheritable arena"). Under ThreadSanitizer
// all of that range is its shadow memory or reserved, except 0x550000000000-0x568000000000 where
// the program itself is loaded (below 0x565600000000), so 8 starts in 10 failed here. This rand_r
// answers Criterion's draws with steps down from 0x567000000000 (whether a step is free is still
// Criterion's check), and every other caller with the C library's own.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// libcriterion's loaded segments, found once (the tests call rand_r millions of times: fixtures'
// random bytes; looking the caller up each time took a minute)
static uintptr_t criterion_lo, criterion_hi;
static pthread_once_t found = PTHREAD_ONCE_INIT;

static int note_criterion(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "libcriterion")) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!criterion_lo || lo < criterion_lo) criterion_lo = lo;
        if (hi > criterion_hi) criterion_hi = hi;
    }
    return 1;
}

static void find_criterion(void) { dl_iterate_phdr(note_criterion, NULL); }

int rand_r(unsigned *seed) {
    pthread_once(&found, find_criterion);
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    if (caller >= criterion_lo && caller < criterion_hi) {
        static unsigned draws;   // only Criterion's start draws, on one thread
        // base = 0x200000000000 + step * 16 MB
        return (int)((0x567000000000u - 0x200000000000u) / (16u << 20) - 0x100u * draws++);
    }
    static int (*libc_rand_r)(unsigned *);
    if (!libc_rand_r) libc_rand_r = (int (*)(unsigned *))dlsym(RTLD_NEXT, "rand_r");
    return libc_rand_r(seed);
}
