// cpu_allocator.h — frost's replacement for libtorch's CPU allocator (cpu_allocator.cpp), the one
// call the rest of the shim makes into it.
#pragma once

// Unmaps the large blocks kept for reuse (they stay resident until then): when the last model is freed.
void frost_cpu_cache_release() noexcept;
