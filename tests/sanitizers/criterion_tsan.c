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
#include <stdlib.h>
#include <string.h>

int rand_r(unsigned *seed) {
    Dl_info where;
    if (dladdr(__builtin_return_address(0), &where) && where.dli_fname && strstr(where.dli_fname, "libcriterion")) {
        static unsigned draws;
        // base = 0x200000000000 + step * 16 MB
        return (int)((0x567000000000u - 0x200000000000u) / (16u << 20) - 0x100u * draws++);
    }
    static int (*libc_rand_r)(unsigned *);
    if (!libc_rand_r) libc_rand_r = (int (*)(unsigned *))dlsym(RTLD_NEXT, "rand_r");
    return libc_rand_r(seed);
}
