// cpu_allocator.cpp — libtorch's CPU allocator, replaced at load time: large blocks (1 MB and up:
// activations, batches) are mapped on their own, marked for transparent huge pages, and kept for reuse
// when freed.
//
// Why its own mappings: every batch of a frozen backbone's forward pass allocates and frees hundreds
// of MB of activations. glibc maps blocks that big fresh each time (they are over its mmap threshold,
// which cannot go above 32 MB), so each batch takes millions of minor page faults: on the 2-core
// machine a ResNet50 forward pass spent over 80% of its time in the kernel. With 2 MB pages the same
// work takes ~500x fewer faults (measured: 4.8 -> 19.7 images/s for ResNet50 at batch 16). glibc can
// do the same (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), but only when set before the process starts.
//
// Why reuse: a fresh mapping, huge pages or not, is zeroed by the kernel as it is first touched; with
// a fresh mapping for every block that zeroing was still a quarter of a ResNet50 forward pass (perf:
// clear_page_erms). So a freed block is kept, resident, and a later request takes it back without a
// fault: one of the same mapped length, else the shortest kept one up to a quarter longer. A forward
// pass asks for the same sizes in the same order every batch, so after the first batch most requests
// are met (ResNet50 backbone at batch 16 on the 2-core machine: 11.5-12.1 -> 18.9-20.1 images/s).
// The kept blocks never make the large blocks' mappings bigger than the most their users have asked
// for at once: a request that finds no block to take first unmaps kept ones (the oldest first) until
// the mappings in use, the kept ones and the new one fit in that high-water mark, which is what
// mapping every block afresh would reach. Peak RSS stays close to what it was without reuse (the cost
// estimate's test and bench/run compare it; measured: ResNet18 training every layer at batch 32,
// 128x128, 669 MB without reuse, 695 MB with it: the kept blocks fill the room small allocations left
// at the peak). At most kCacheCap is kept; the
// kept blocks go back to the system when a model is freed (frost_cpu_cache_release) and whenever a
// mapping fails.
//
// A large block's data starts at its mapping's first byte, and what frost needs to know of it (its
// mapped length) is kept in a table beside it: a header inside the mapping would push a tensor of
// exactly N huge pages (common: 32 x 256 x 8 x 8 floats is 2 MB) into N + 1 of them, all resident,
// as much as twice the memory for the smaller activations. A small block (from malloc) has a 64-byte
// header before its data instead and its data is never page-aligned, so one raw deleter tells the two
// kinds apart by the data's address alone. FROST_HUGEPAGES=0 turns it all off (libtorch's own
// allocator stays); FROST_BLOCK_REUSE=0 keeps nothing for reuse (every large block mapped afresh, as
// before: benchmarks).
//
// Under AddressSanitizer a large block comes from malloc instead, exactly as long as asked for: a
// mapping of frost's own, kept for reuse, is memory ASan knows nothing of, so an overflow, a use after
// free or a leak inside tensor data would pass the sanitized suite and `make leaks` unseen. ASan's
// allocator puts a redzone after it, holds it in quarantine once freed and LeakSanitizer scans for it.
#include <c10/core/Allocator.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <unordered_map>
#include <vector>

#include "cpu_allocator.h"
#include "frost_torch.h"
#include "torch_compat.hpp"

namespace {

constexpr size_t kHeader = 64;   // a small block's header; keeps its data 64-byte aligned, as libtorch wants
constexpr size_t kPage = 4096;
constexpr size_t kLarge = 1u << 20;   // from here on: a mapping of its own
constexpr size_t kHugePage = 2u << 20;
constexpr uint64_t kHeap = 0x70616568736f7266ull;   // "frosheap"
constexpr size_t kCacheCap = size_t{1} << 30;       // the most kept for reuse
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;   // large blocks from malloc (see the top)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// Before a small block's data: where malloc's block starts.
struct Header {
    uint64_t magic;   // kHeap
    size_t offset;    // from malloc's block to the data: kHeader, or 2 * kHeader to keep it off a page start
};

// A large block in use: the mapping's length, and the length asked for (to the huge page), which is
// the mapping's own length unless a longer kept one was reused.
struct Mapped {
    size_t map_len;
    size_t asked;
};

// Freed mappings kept for reuse, resident: base and length, in the order they were freed.
struct Kept {
    char *base;
    size_t len;
};
std::mutex g_mu;
// never destroyed: a tensor freed by another library's static destructor at exit may still come here
// (kept as variables where nothing uses them, under ASan, so that LeakSanitizer sees them held)
[[gnu::used]] std::vector<Kept> &g_kept = *new std::vector<Kept>;
[[gnu::used]] std::unordered_map<const void *, Mapped> &g_blocks =
    *new std::unordered_map<const void *, Mapped>;   // in use
size_t g_kept_bytes = 0;
size_t g_live = 0;    // the mappings in use, bytes
size_t g_asked = 0;   // what their users asked for (to the page), bytes: what mapping each afresh would use
size_t g_most = 0;    // the most g_asked has been: the budget for g_live + g_kept_bytes
uint64_t g_mapped = 0, g_reused = 0;   // requests met by a new mapping, by a kept one
bool g_active = false;
size_t g_cap = kCacheCap;   // 0 with FROST_BLOCK_REUSE=0: every block mapped afresh (for benchmarks)

// A kept mapping for a request of `len` bytes (a multiple of kHugePage): one of exactly that length
// (the most recently freed), else the shortest of those up to a quarter longer (its pages are resident
// already). When none fits, kept mappings (the oldest first) are moved into *drop, for the caller to
// unmap outside the lock, until the mappings in use, the kept ones and a new one of `len` bytes are no
// more than the most ever asked for at once. Counts the request as in use; *got is the mapping's
// length (len when none was kept). Holds g_mu.
char *take_kept(size_t len, size_t *got, std::vector<Kept> *drop) {
    size_t best = g_kept.size();
    for (size_t i = g_kept.size(); i-- > 0;) {
        size_t l = g_kept[i].len;
        if (l == len) {
            best = i;
            break;
        }
        if (l > len && l <= len + len / 4 && (best == g_kept.size() || l < g_kept[best].len)) best = i;
    }
    g_asked += len;
    if (g_asked > g_most) g_most = g_asked;
    char *base = nullptr;
    *got = len;
    if (best < g_kept.size()) {
        base = g_kept[best].base;
        *got = g_kept[best].len;
        g_kept_bytes -= *got;
        g_kept.erase(g_kept.begin() + static_cast<long>(best));
        g_reused++;
    } else {
        size_t resident = g_live + g_kept_bytes + len, freed = 0, k = 0;
        while (k < g_kept.size() && resident - freed > g_most) freed += g_kept[k++].len;
        drop->assign(g_kept.begin(), g_kept.begin() + static_cast<long>(k));
        g_kept.erase(g_kept.begin(), g_kept.begin() + static_cast<long>(k));
        g_kept_bytes -= freed;
        g_mapped++;
    }
    g_live += *got;
    return base;
}

void unmap_all(const std::vector<Kept> &v) {
    for (const Kept &k : v) munmap(k.base, k.len);
}

// Counts a mapping in use as no longer: after a failed mmap or a failed entry in g_blocks.
void forget(size_t got, size_t len, bool fresh) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_live -= got;
    g_asked -= len;
    if (fresh) g_mapped--;
}

// A block of `len` bytes (a multiple of kHugePage), entered in g_blocks, or NULL.
char *map_large(size_t len) {
    std::vector<Kept> drop;
    size_t got;
    char *base;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        base = take_kept(len, &got, &drop);
    }
    unmap_all(drop);
    bool fresh = !base;
    if (fresh) {
        void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {   // the kept blocks may be what is in the way: give them all back, once more
            frost_cpu_cache_release();
            p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        if (p == MAP_FAILED) {
            forget(got, len, true);
            return nullptr;
        }
        madvise(p, len, MADV_HUGEPAGE);
        base = static_cast<char *>(p);
    }
    try {
        std::lock_guard<std::mutex> lock(g_mu);
        g_blocks.emplace(base, Mapped{got, len});
    } catch (const std::bad_alloc &) {
        munmap(base, got);
        forget(got, len, fresh);
        return nullptr;
    }
    return base;
}

// Keeps a freed mapping for reuse, or unmaps it when the kept ones would go over kCacheCap.
void unmap_large(char *base) {
    size_t len;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        auto it = g_blocks.find(base);
        if (it == g_blocks.end()) std::abort();   // not one of ours: freeing it would corrupt memory
        Mapped m = it->second;
        g_blocks.erase(it);
        g_live -= m.map_len;
        g_asked -= m.asked;
        len = m.map_len;
        if (g_kept_bytes + len <= g_cap) {
            try {
                g_kept.push_back({base, len});
                g_kept_bytes += len;
                return;
            } catch (const std::bad_alloc &) {}
        }
    }
    munmap(base, len);
}

// A large block's data starts a page; a small block's never does.
void frost_free(void *data) {
    if (!data) return;
    auto *p = static_cast<char *>(data);
    if (reinterpret_cast<uintptr_t>(p) % kPage == 0) {
        if (kAsan)
            std::free(p);
        else
            unmap_large(p);
        return;
    }
    Header h;
    std::memcpy(&h, p - kHeader, sizeof h);
    if (h.magic != kHeap) std::abort();   // not one of ours
    std::free(p - h.offset);
}

// (allocate and the other members libtorch declares pure virtual come from CpuAllocatorBase)
struct HugePageAllocator final : frost::CpuAllocatorBase<HugePageAllocator> {
    c10::DataPtr allocate_block(size_t n) const {
        void *data;
        if (n >= kLarge && kAsan) {   // page-aligned like a mapping, so that frost_free knows it
            TORCH_CHECK(posix_memalign(&data, kPage, n) == 0,
                        "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", n, " bytes.");
        } else if (n >= kLarge) {
            data = map_large((n + kHugePage - 1) / kHugePage * kHugePage);
            // the words libtorch's own allocator uses, so that callers recognise an out-of-memory
            TORCH_CHECK(data, "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", n, " bytes.");
        } else {
            void *base = nullptr;
            TORCH_CHECK(posix_memalign(&base, kHeader, n + 2 * kHeader) == 0,
                        "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", n, " bytes.");
            size_t offset = (reinterpret_cast<uintptr_t>(base) + kHeader) % kPage == 0 ? 2 * kHeader : kHeader;
            data = static_cast<char *>(base) + offset;
            Header h{kHeap, offset};
            std::memcpy(static_cast<char *>(data) - kHeader, &h, sizeof h);
        }
        return {data, data, &frost_free, c10::Device(c10::DeviceType::CPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override { return &frost_free; }
};

HugePageAllocator g_allocator;

struct Install {
    Install() {
        const char *off = std::getenv("FROST_HUGEPAGES");
        if (off && std::strcmp(off, "0") == 0) return;
        c10::SetAllocator(c10::DeviceType::CPU, &g_allocator, /*priority=*/1);
        g_active = true;
        const char *reuse = std::getenv("FROST_BLOCK_REUSE");
        if (reuse && std::strcmp(reuse, "0") == 0) g_cap = 0;
    }
} g_install;

}   // namespace

void frost_cpu_cache_release() noexcept {
    std::vector<Kept> drop;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        drop.swap(g_kept);
        g_kept_bytes = 0;
    }
    unmap_all(drop);
}

void *ft_cpu_block_new(size_t nbytes) noexcept {
    try {
        return c10::GetAllocator(c10::DeviceType::CPU)->raw_allocate(nbytes);
    } catch (const std::exception &) {
        return nullptr;
    }
}

void ft_cpu_block_free(void *p) noexcept {
    if (p) c10::GetAllocator(c10::DeviceType::CPU)->raw_deallocate(p);
}

void ft_cpu_memory_stats(ft_cpu_memory *out) noexcept {
    if (!out) return;
    std::lock_guard<std::mutex> lock(g_mu);
    *out = ft_cpu_memory{g_live, g_kept_bytes, g_most, g_mapped, g_reused, g_active ? 1 : 0};
}
