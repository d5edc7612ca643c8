// status.cpp — ft_status: the code + message that every shim call returns instead of throwing.
// When even the status cannot be allocated, a static out-of-memory status is returned; freeing it
// is a no-op.
#include "shim_internal.hpp"

#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

struct ft_status {
    ft_code code;
    char message[1];   // allocated to the message's length
};

namespace {
struct StaticStatus {
    ft_code code;
    char message[64];
};
StaticStatus g_oom = {FT_ENOMEM, "out of memory"};
ft_status *oom_status() { return reinterpret_cast<ft_status *>(&g_oom); }

// c10's messages may span lines (a source location, a hint); the API promises one line. A failed
// internal check also starts with where it failed ("[enforce fail at alloc_cpu.cpp:75] err == 0. "),
// which tells a user nothing: that part goes.
std::string first_line(const std::string &s) {
    size_t end = s.find('\n');
    std::string line = s.substr(0, end);
    if (line.rfind("[enforce fail at ", 0) == 0) {
        size_t close = line.find("] ");
        size_t stop = close == std::string::npos ? std::string::npos : line.find(". ", close);
        if (stop != std::string::npos) line = line.substr(stop + 2);
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    return line;
}
}   // namespace

namespace frost {

ft_status *make_status(ft_code code, const std::string &msg) noexcept {
    size_t len = msg.size();
    auto *s = static_cast<ft_status *>(std::malloc(sizeof(ft_status) + len));
    if (!s) return oom_status();
    s->code = code;
    std::memcpy(s->message, msg.data(), len);
    s->message[len] = '\0';
    return s;
}

ft_status *status_from_current_exception() noexcept {
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return make_status(FT_ENOMEM, "out of memory");
    } catch (const c10::Error &e) {
        std::string msg = first_line(e.what_without_backtrace());
        // libtorch reports allocation failures as c10::Error ("DefaultCPUAllocator: can't allocate
        // memory", "CUDA out of memory"): give them the memory code so callers can suggest a
        // smaller batch.
        bool oom =
            msg.find("can't allocate memory") != std::string::npos || msg.find("out of memory") != std::string::npos;
        return make_status(oom ? FT_ENOMEM : FT_ETORCH, msg);
    } catch (const std::invalid_argument &e) {
        return make_status(FT_EINVAL, e.what());
    } catch (const std::exception &e) {
        return make_status(FT_ETORCH, first_line(e.what()));
    } catch (...) {
        return make_status(FT_ETORCH, "unknown C++ exception in the torch shim");
    }
}

}   // namespace frost

extern "C" {

ft_code ft_status_code(const ft_status *s) noexcept { return s ? s->code : FT_OK; }

const char *ft_status_message(const ft_status *s) noexcept { return s ? s->message : ""; }

void ft_status_free(ft_status *s) noexcept {
    if (s && s != oom_status()) std::free(s);
}

}   // extern "C"
