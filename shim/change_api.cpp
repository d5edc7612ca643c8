// change_api.cpp — what a training run changes, entry by entry of the state_dict: a snapshot of the
// entries that can change (trainable parameters, BatchNorm running statistics) and, against it, each
// entry's squared change, its squared size and its gradient's squared norm.
//
// The trainable parameters' snapshot is written to an unlinked temporary file ($TMPDIR, else /tmp)
// and read back 1M values at a time: a VGG head's 120M parameters would otherwise cost 480 MB of
// memory for the whole run, and the operating system's page cache holds the file instead. Each chunk
// is summed in single precision (libtorch's pairwise sum: relative error near 1e-7, where a
// conversion to double would double the measurement's time), the chunks' sums in double; no
// full-size temporary is made. The starting values' square sums are taken once, with the snapshot.
#include "shim_internal.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <unordered_map>

using frost::make_status;

struct ft_snapshot {
    const ft_model *model = nullptr;
    size_t entries = 0;
    std::vector<int64_t> offset;        // per state entry: where its values start in the file; -1: not there
    std::vector<double> base_sq;        // per state entry in the file: the square sum of its values then
    std::vector<torch::Tensor> stats;   // per state entry: a BatchNorm running statistic's copy
    int fd = -1;
    ~ft_snapshot() {
        if (fd >= 0) close(fd);
    }
};

namespace {

constexpr int64_t kChunk = 1 << 20;
constexpr double kBatchNormEps = 1e-5;   // torchvision's BatchNorm2d

bool ends_with(const std::string &s, const char *suffix) {
    size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool is_running_stat(const std::string &name) {
    return ends_with(name, ".running_mean") || ends_with(name, ".running_var");
}

torch::Tensor flat(const torch::Tensor &t) { return t.detach().reshape({-1}); }

// An unlinked temporary file: the descriptor, or throws.
int temp_file() {
    const char *dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/frost-snapshot-XXXXXX";
    std::vector<char> buf(path.begin(), path.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    if (fd < 0)
        throw std::runtime_error(std::string("cannot make a temporary file for the snapshot: ") + std::strerror(errno));
    unlink(buf.data());
    return fd;
}

void write_all(int fd, const void *data, size_t len, int64_t at) {
    const char *p = static_cast<const char *>(data);
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(std::string("cannot write the snapshot: ") + std::strerror(errno));
        p += n, len -= static_cast<size_t>(n), at += n;
    }
}

void read_all(int fd, void *data, size_t len, int64_t at) {
    char *p = static_cast<char *>(data);
    while (len > 0) {
        ssize_t n = pread(fd, p, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("cannot read the snapshot back");
        p += n, len -= static_cast<size_t>(n), at += n;
    }
}

// sum of squares of a tensor's values, a chunk at a time (each in float, their sum in double)
double square_sum(const torch::Tensor &t) {
    torch::Tensor v = flat(t);
    double total = 0;
    for (int64_t at = 0; at < v.numel(); at += kChunk)
        total += v.narrow(0, at, std::min(kChunk, v.numel() - at)).square().sum().item<double>();
    return total;
}

}   // namespace

extern "C" {

ft_status *ft_snapshot_take(ft_model *m, ft_snapshot **out) noexcept {
    if (!m || !m->root || !out) return make_status(FT_EINVAL, "ft_snapshot_take: NULL argument");
    FT_GUARD_BEGIN
    auto s = std::make_unique<ft_snapshot>();
    s->model = m;
    s->entries = m->state_tensors.size();
    s->offset.assign(s->entries, -1);
    s->base_sq.assign(s->entries, 0.0);
    s->stats.resize(s->entries);
    torch::NoGradGuard no_grad;
    int64_t at = 0;
    for (size_t i = 0; i < s->entries; i++) {
        const torch::Tensor &t = m->state_tensors[i];
        if (t.scalar_type() != torch::kFloat32) continue;
        if (!m->state_is_param[i]) {
            if (is_running_stat(m->state_names[i])) s->stats[i] = t.detach().clone();
            continue;
        }
        if (!t.requires_grad()) continue;
        if (s->fd < 0) s->fd = temp_file();
        torch::Tensor v = flat(t);
        s->offset[i] = at;
        s->base_sq[i] = square_sum(v);
        for (int64_t k = 0; k < v.numel(); k += kChunk) {
            torch::Tensor chunk = v.narrow(0, k, std::min(kChunk, v.numel() - k)).to(torch::kCPU).contiguous();
            write_all(s->fd, chunk.data_ptr<float>(), static_cast<size_t>(chunk.numel()) * 4, at);
            at += chunk.numel() * 4;
        }
    }
    *out = s.release();
    return nullptr;
    FT_GUARD_END
}

void ft_snapshot_free(ft_snapshot *s) noexcept {
    try {
        delete s;
    } catch (...) {}
}

ft_status *ft_model_changes(ft_model *m, const ft_snapshot *s, ft_state_change *out, size_t n) noexcept {
    if (!m || !m->root || !s || !out) return make_status(FT_EINVAL, "ft_model_changes: NULL argument");
    if (s->model != m || s->entries != m->state_tensors.size() || n != m->state_tensors.size())
        return make_status(FT_EINVAL, "ft_model_changes: the snapshot is of another model or table");
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < n; i++) index[m->state_names[i]] = i;
    std::vector<float> buf;
    for (size_t i = 0; i < n; i++) {
        ft_state_change &c = out[i];
        c = ft_state_change{};
        const torch::Tensor &t = m->state_tensors[i];
        const std::string &name = m->state_names[i];
        if (m->state_is_param[i] && t.grad().defined()) {
            c.has_grad = 1;
            c.grad_sq = square_sum(t.grad());
        }
        if (s->offset[i] >= 0) {   // a trainable parameter: against its values in the file
            c.tracked = 1;
            torch::Tensor now = flat(t);
            int64_t at = s->offset[i];
            for (int64_t k = 0; k < now.numel(); k += kChunk) {
                int64_t len = std::min(kChunk, now.numel() - k);
                buf.resize(static_cast<size_t>(len));
                read_all(s->fd, buf.data(), static_cast<size_t>(len) * 4, at);
                at += len * 4;
                torch::Tensor then = torch::from_blob(buf.data(), {len}, torch::kFloat32);
                torch::Tensor cur = now.narrow(0, k, len).to(torch::kCPU);
                c.change_sq += (cur - then).square().sum().item<double>();
            }
            c.base_sq = s->base_sq[i];
        } else if (s->stats[i].defined()) {   // a running statistic, in its layer's starting units
            c.tracked = 1;
            std::string var_name = name.substr(0, name.rfind('.')) + ".running_var";
            auto v = index.find(var_name);
            if (v == index.end() || !s->stats[v->second].defined())
                return make_status(FT_ETORCH, "'" + name + "' has no running_var beside it");
            torch::Tensor var0 = flat(s->stats[v->second]).to(torch::kDouble) + kBatchNormEps;
            torch::Tensor d = flat(t).to(torch::kDouble) - flat(s->stats[i]).to(torch::kDouble);
            c.change_sq = ends_with(name, ".running_mean") ? (d.square() / var0).sum().item<double>()
                                                           : (d / var0).square().sum().item<double>();
            c.base_sq = static_cast<double>(t.numel());
        }
    }
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
