// train_api.cpp — the exported C functions for training: modes with the frozen-BatchNorm rule,
// optimizers (libtorch's Adam, stepped by adam_fused.cpp where it can, and SGD), train and eval
// steps with cross-entropy, the feature-cache steps that run the backbone or the head alone, and
// optimizer state by parameter name.
#include "head_name.hpp"
#include "shim_internal.hpp"
#include <chrono>

#include <torch/nn/functional/loss.h>
#include <torch/optim.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

using frost::make_status;

struct ft_optimizer {
    ft_model *model = nullptr;
    ft_opt_kind kind = FT_OPT_ADAM;
    std::unique_ptr<torch::optim::Optimizer> opt;
    std::vector<std::string> names;   // the optimizer's parameter names, in state_dict order
    std::vector<torch::Tensor> params;
    std::vector<std::string> group_modules;     // per parameter group: the module paths it was asked for
    bool fused = frost::adam_fused_default();   // Adam: adam_fused.cpp's step when it can
    int64_t fused_steps = 0;
    // state table (ft_optimizer_state_*), rebuilt by ft_optimizer_state_count
    std::vector<std::string> state_names;
    std::vector<torch::Tensor> state_tensors;
};

namespace {

namespace nn = torch::nn;

bool valid_model(const ft_model *m) { return m && m->root; }

ft_status *bad_arg(const std::string &msg) { return make_status(FT_EINVAL, msg); }

std::string head_path(const ft_model &m) { return frost::head_name(m.family); }

torch::Tensor wrap_input(ft_model &m, const float *x, int64_t n, int64_t c, int64_t h, int64_t w) {
    auto t = torch::from_blob(const_cast<float *>(x), {n, c, h, w}, torch::kFloat32);
    return m.device.is_cpu() ? t : t.to(m.device);
}

torch::Tensor wrap_labels(ft_model &m, const int64_t *labels, int64_t n) {
    auto t = torch::from_blob(const_cast<int64_t *>(labels), {n}, torch::kInt64);
    return m.device.is_cpu() ? t : t.to(m.device);
}

void fill_result(const torch::Tensor &logits, const torch::Tensor &loss, const torch::Tensor &labels,
                 ft_step_result *r) {
    r->loss = loss.item<double>();
    r->correct = logits.argmax(1).eq(labels).sum().item<int64_t>();
    r->n = labels.size(0);
}

ft_status *check_batch(const ft_model *m, const void *x, const int64_t *labels, int64_t n, ft_step_result *r) {
    if (!valid_model(m) || !x || !labels || !r) return bad_arg("NULL argument");
    r->forward_s = r->backward_s = r->optimizer_s = 0;
    if (n < 1) return bad_arg("empty batch");
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->num_classes)
            return bad_arg("label " + std::to_string(labels[i]) + " is outside 0.." +
                           std::to_string(m->num_classes - 1));
    return nullptr;
}

// Seconds since *t, and *t moved to now: one lap of a step's stopwatch.
double lap(std::chrono::steady_clock::time_point *t) {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - *t).count();
    *t = now;
    return s;
}

// Cross-entropy, mean over the batch, with the model's class weights when it has them (as PyTorch's
// CrossEntropyLoss(weight=w): the mean is then weighted, divided by the labels' summed weights).
torch::Tensor loss_of(ft_model &m, const torch::Tensor &logits, const torch::Tensor &labels) {
    if (!m.class_weight.defined()) return nn::functional::cross_entropy(logits, labels);
    if (m.class_weight.device() != logits.device()) m.class_weight = m.class_weight.to(logits.device());
    return nn::functional::cross_entropy(logits, labels,
                                         nn::functional::CrossEntropyFuncOptions().weight(m.class_weight));
}

torch::Tensor train_on(ft_optimizer &o, const torch::Tensor &logits, const torch::Tensor &labels, ft_step_result *r,
                       std::chrono::steady_clock::time_point *t) {
    auto loss = loss_of(*o.model, logits, labels);
    frost::zero_grad(*o.opt);
    loss.backward();
    r->backward_s = lap(t);
    // Adam in one pass over memory (adam_fused.cpp), or libtorch's step where that cannot run
    if (o.fused && o.kind == FT_OPT_ADAM && frost::adam_fused_step(static_cast<torch::optim::Adam &>(*o.opt)))
        o.fused_steps++;
    else
        o.opt->step();
    r->optimizer_s = lap(t);
    return loss;
}

}   // namespace

extern "C" {

void ft_model_set_mode(ft_model *m, int training, int frozen_bn_eval) noexcept {
    if (!valid_model(m)) return;
    try {
        m->root->train(training != 0);
        if (!training || !frozen_bn_eval) return;
        for (const auto &mod : m->root->modules()) {
            auto it = m->info.find(mod.get());
            if (it == m->info.end() || it->second.kind != frost::Kind::BatchNorm2d) continue;
            bool frozen = true;
            for (const auto &p : mod->parameters(false)) frozen = frozen && !p.requires_grad();
            if (frozen) mod->eval();
        }
    } catch (...) {}
}

int ft_model_backbone_frozen(const ft_model *m) noexcept {
    if (!valid_model(m)) return 0;
    try {
        std::string prefix = head_path(*m) + ".";
        for (const auto &p : m->root->named_parameters(true))
            if (p.key().rfind(prefix, 0) != 0 && p.value().requires_grad()) return 0;
        return 1;
    } catch (...) {
        return 0;
    }
}

int64_t ft_model_feature_size(const ft_model *m) noexcept {
    if (!valid_model(m)) return 0;
    try {
        auto head = frost::find_module(*const_cast<ft_model *>(m), frost::head_first_linear(m->family));
        auto *lin = head ? head->as<nn::Linear>() : nullptr;
        return lin ? lin->options.in_features() : 0;
    } catch (...) {
        return 0;
    }
}

ft_status *ft_model_set_class_weights(ft_model *m, const float *w, int64_t n) noexcept {
    if (!valid_model(m) || (!w && n)) return bad_arg("ft_model_set_class_weights: NULL argument");
    if (n && n != m->num_classes)
        return bad_arg(std::to_string(n) + " class weights for " + std::to_string(m->num_classes) + " classes");
    for (int64_t i = 0; i < n; i++)
        if (!(w[i] >= 0) || !std::isfinite(w[i])) return bad_arg("class weights must be finite and not negative");
    FT_GUARD_BEGIN
    if (!n) {
        m->class_weight = torch::Tensor();
        return nullptr;
    }
    m->class_weight = torch::from_blob(const_cast<float *>(w), {n}, torch::kFloat32).clone().to(m->device);
    return nullptr;
    FT_GUARD_END
}

void ft_manual_seed(uint64_t seed) noexcept {
    try {
        torch::manual_seed(seed);
    } catch (...) {}
}

// ---------------------------------------------------------------------------------------------
// optimizers

void ft_opt_params_default(ft_opt_params *p) noexcept {
    if (p) *p = ft_opt_params{FT_OPT_ADAM, 1e-5, 0.0, 0.9, 0.9, 0.999, 1e-8};
}

namespace {

// The options of one parameter group: the run's settings with the group's lr.
std::unique_ptr<torch::optim::OptimizerOptions> group_options(const ft_opt_params *p, double lr) {
    if (p->kind == FT_OPT_SGD)
        return std::make_unique<torch::optim::SGDOptions>(
            torch::optim::SGDOptions(lr).momentum(p->momentum).weight_decay(p->weight_decay));
    return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(lr)
                                                           .betas(std::make_tuple(p->beta1, p->beta2))
                                                           .eps(p->eps)
                                                           .weight_decay(p->weight_decay));
}

// 1 when parameter `name` lies under one of the comma-separated module paths in `modules`.
bool under_modules(const std::string &name, const char *modules) {
    std::string list = modules ? modules : "";
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string path = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!path.empty() && name.size() > path.size() && name.compare(0, path.size(), path) == 0 &&
            name[path.size()] == '.')
            return true;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return false;
}

}   // namespace

ft_status *ft_optimizer_create(ft_model *m, const ft_opt_params *p, ft_optimizer **out) noexcept {
    return ft_optimizer_create_groups(m, p, nullptr, 0, out);
}

ft_status *ft_optimizer_create_groups(ft_model *m, const ft_opt_params *p, const ft_param_group *groups,
                                      size_t n_groups, ft_optimizer **out) noexcept {
    if (!valid_model(m) || !p || !out || (!groups && n_groups)) return bad_arg("ft_optimizer_create: NULL argument");
    if (!(p->lr > 0)) return bad_arg("the learning rate must be above 0");
    if (p->weight_decay < 0 || p->momentum < 0) return bad_arg("weight decay and momentum cannot be negative");
    for (size_t g = 0; g < n_groups; g++)
        if (!(groups[g].lr > 0) || !std::isfinite(groups[g].lr))
            return bad_arg(std::string("the learning rate of ") + (groups[g].modules ? groups[g].modules : "?") +
                           " must be above 0");
    FT_GUARD_BEGIN
    auto o = std::make_unique<ft_optimizer>();
    o->model = m;
    o->kind = p->kind;
    // each parameter joins the first group whose modules hold it; what no group holds and is
    // trainable now forms a last group with the run's lr
    std::vector<std::vector<torch::Tensor>> members(n_groups + 1);
    std::vector<std::vector<std::string>> member_names(n_groups + 1);
    for (size_t i = 0; i < m->state_names.size(); i++) {
        if (!m->state_is_param[i]) continue;
        const std::string &name = m->state_names[i];
        size_t g = 0;
        while (g < n_groups && !under_modules(name, groups[g].modules)) g++;
        if (g == n_groups && !m->state_tensors[i].requires_grad()) continue;
        members[g].push_back(m->state_tensors[i]);
        member_names[g].push_back(name);
    }
    std::vector<torch::optim::OptimizerParamGroup> param_groups;
    for (size_t g = 0; g <= n_groups; g++) {
        if (members[g].empty()) continue;
        double lr = g < n_groups ? groups[g].lr : p->lr;
        param_groups.emplace_back(members[g], group_options(p, lr));
        o->group_modules.push_back(g < n_groups ? (groups[g].modules ? groups[g].modules : "") : "");
        for (size_t k = 0; k < members[g].size(); k++) {
            o->names.push_back(member_names[g][k]);
            o->params.push_back(members[g][k]);
        }
    }
    bool trains = false;
    for (const auto &t : o->params) trains = trains || t.requires_grad();
    if (!trains) return bad_arg("nothing to train: every parameter is frozen");
    auto defaults = group_options(p, p->lr);
    if (p->kind == FT_OPT_SGD)
        o->opt = std::make_unique<torch::optim::SGD>(param_groups, static_cast<torch::optim::SGDOptions &>(*defaults));
    else
        o->opt =
            std::make_unique<torch::optim::Adam>(param_groups, static_cast<torch::optim::AdamOptions &>(*defaults));
    *out = o.release();
    return nullptr;
    FT_GUARD_END
}

size_t ft_optimizer_group_count(const ft_optimizer *o) noexcept {
    try {
        return o ? o->opt->param_groups().size() : 0;
    } catch (...) {
        return 0;
    }
}

ft_status *ft_optimizer_group_get(const ft_optimizer *o, size_t i, ft_group_info *out) noexcept {
    if (!o || !out) return bad_arg("ft_optimizer_group_get: NULL argument");
    FT_GUARD_BEGIN
    auto &groups = o->opt->param_groups();
    if (i >= groups.size()) return bad_arg("parameter group index out of range");
    auto &g = groups[i];
    std::memset(out, 0, sizeof *out);
    out->modules = o->group_modules[i].c_str();
    out->n_params = g.params().size();
    for (const auto &t : g.params()) {
        out->n_values += t.numel();
        if (t.requires_grad()) out->n_trainable += t.numel();
    }
    if (o->kind == FT_OPT_SGD) {
        auto &opt = static_cast<torch::optim::SGDOptions &>(g.options());
        out->lr = opt.lr();
        out->momentum = opt.momentum();
        out->weight_decay = opt.weight_decay();
    } else {
        auto &opt = static_cast<torch::optim::AdamOptions &>(g.options());
        out->lr = opt.lr();
        out->momentum = std::get<0>(opt.betas());
        out->weight_decay = opt.weight_decay();
    }
    return nullptr;
    FT_GUARD_END
}

const char *ft_optimizer_param_name(const ft_optimizer *o, size_t i) noexcept {
    return o && i < o->names.size() ? o->names[i].c_str() : nullptr;
}

ft_status *ft_optimizer_group_set(ft_optimizer *o, size_t i, double lr, double momentum) noexcept {
    if (!o) return bad_arg("ft_optimizer_group_set: NULL argument");
    if (!(lr > 0) || !std::isfinite(lr)) return bad_arg("the learning rate must be above 0");
    FT_GUARD_BEGIN
    auto &groups = o->opt->param_groups();
    if (i >= groups.size()) return bad_arg("parameter group index out of range");
    auto &g = groups[i];
    if (o->kind == FT_OPT_SGD) {
        auto &opt = static_cast<torch::optim::SGDOptions &>(g.options());
        opt.lr(lr);
        if (momentum >= 0) opt.momentum(momentum);
    } else {
        auto &opt = static_cast<torch::optim::AdamOptions &>(g.options());
        opt.lr(lr);
        if (momentum >= 0) opt.betas(std::make_tuple(momentum, std::get<1>(opt.betas())));
    }
    return nullptr;
    FT_GUARD_END
}

void ft_optimizer_set_fused(ft_optimizer *o, int on) noexcept {
    if (o) o->fused = on != 0;
}

int64_t ft_optimizer_fused_steps(const ft_optimizer *o) noexcept { return o ? o->fused_steps : 0; }

void ft_optimizer_free(ft_optimizer *o) noexcept {
    try {
        delete o;
    } catch (...) {}
}

// ---------------------------------------------------------------------------------------------
// steps

ft_status *ft_train_step(ft_model *m, ft_optimizer *o, const float *x, const int64_t *labels, int64_t n, int64_t c,
                         int64_t h, int64_t w, ft_step_result *r) noexcept {
    if (ft_status *s = check_batch(m, x, labels, n, r)) return s;
    if (!o || o->model != m) return bad_arg("the optimizer belongs to another model");
    FT_GUARD_BEGIN
    auto t = std::chrono::steady_clock::now();
    auto xt = wrap_input(*m, x, n, c, h, w);
    auto yt = wrap_labels(*m, labels, n);
    auto logits = frost::run_module(*m, *m->root, xt, false);
    r->forward_s = lap(&t);
    auto loss = train_on(*o, logits, yt, r, &t);
    fill_result(logits.detach(), loss.detach(), yt, r);
    r->forward_s += lap(&t);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_eval_step(ft_model *m, const float *x, const int64_t *labels, int64_t n, int64_t c, int64_t h, int64_t w,
                        ft_step_result *r) noexcept {
    if (ft_status *s = check_batch(m, x, labels, n, r)) return s;
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    auto t = std::chrono::steady_clock::now();
    auto yt = wrap_labels(*m, labels, n);
    auto logits = frost::run_module(*m, *m->root, wrap_input(*m, x, n, c, h, w), false);
    fill_result(logits, loss_of(*m, logits, yt), yt, r);
    r->forward_s = lap(&t);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_model_features(ft_model *m, const float *x, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                             size_t out_len) noexcept {
    if (!valid_model(m) || !x || !out) return bad_arg("ft_model_features: NULL argument");
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    // the folded copy when ft_model_set_precision made one (fast_backbone.cpp), else the modules
    auto f = frost::run_backbone_prepared(*m, wrap_input(*m, x, n, c, h, w)).to(torch::kCPU).contiguous();
    if (static_cast<size_t>(f.numel()) > out_len) return bad_arg("feature buffer too small");
    std::memcpy(out, f.data_ptr<float>(), sizeof(float) * static_cast<size_t>(f.numel()));
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_head_train_step(ft_model *m, ft_optimizer *o, const float *features, const int64_t *labels, int64_t n,
                              ft_step_result *r) noexcept {
    if (ft_status *s = check_batch(m, features, labels, n, r)) return s;
    if (!o || o->model != m) return bad_arg("the optimizer belongs to another model");
    FT_GUARD_BEGIN
    auto t = std::chrono::steady_clock::now();
    auto f = torch::from_blob(const_cast<float *>(features), {n, ft_model_feature_size(m)}, torch::kFloat32);
    if (!m->device.is_cpu()) f = f.to(m->device);
    auto yt = wrap_labels(*m, labels, n);
    auto logits = frost::run_head(*m, f);
    r->forward_s = lap(&t);
    auto loss = train_on(*o, logits, yt, r, &t);
    fill_result(logits.detach(), loss.detach(), yt, r);
    r->forward_s += lap(&t);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_head_eval_step(ft_model *m, const float *features, const int64_t *labels, int64_t n,
                             ft_step_result *r) noexcept {
    if (ft_status *s = check_batch(m, features, labels, n, r)) return s;
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    auto t = std::chrono::steady_clock::now();
    auto f = torch::from_blob(const_cast<float *>(features), {n, ft_model_feature_size(m)}, torch::kFloat32);
    if (!m->device.is_cpu()) f = f.to(m->device);
    auto yt = wrap_labels(*m, labels, n);
    auto logits = frost::run_head(*m, f);
    fill_result(logits, loss_of(*m, logits, yt), yt, r);
    r->forward_s = lap(&t);
    return nullptr;
    FT_GUARD_END
}

// ---------------------------------------------------------------------------------------------
// optimizer state by parameter name

size_t ft_optimizer_state_count(ft_optimizer *o) noexcept {
    if (!o) return 0;
    try {
        o->state_names.clear();
        o->state_tensors.clear();
        auto &state = o->opt->state();
        for (size_t i = 0; i < o->params.size(); i++) {
            auto it = state.find(frost::optim_state_key(o->params[i]));
            if (it == state.end()) continue;
            const std::string &name = o->names[i];
            if (o->kind == FT_OPT_ADAM) {
                auto &s = static_cast<torch::optim::AdamParamState &>(*it->second);
                o->state_names.push_back(name + ".step");
                o->state_tensors.push_back(torch::tensor(s.step(), torch::kInt64));
                o->state_names.push_back(name + ".exp_avg");
                o->state_tensors.push_back(s.exp_avg());
                o->state_names.push_back(name + ".exp_avg_sq");
                o->state_tensors.push_back(s.exp_avg_sq());
            } else {
                auto &s = static_cast<torch::optim::SGDParamState &>(*it->second);
                if (!s.momentum_buffer().defined()) continue;
                o->state_names.push_back(name + ".momentum_buffer");
                o->state_tensors.push_back(s.momentum_buffer());
            }
        }
        return o->state_names.size();
    } catch (...) {
        o->state_names.clear();
        o->state_tensors.clear();
        return 0;
    }
}

ft_status *ft_optimizer_state_info(ft_optimizer *o, size_t i, ft_tensor_info *out) noexcept {
    if (!o || !out) return bad_arg("ft_optimizer_state_info: NULL argument");
    if (i >= o->state_names.size()) return bad_arg("optimizer state index out of range");
    FT_GUARD_BEGIN
    const auto &t = o->state_tensors[i];
    std::memset(out, 0, sizeof *out);
    out->name = o->state_names[i].c_str();
    out->dtype = t.scalar_type() == torch::kInt64 ? FT_I64 : FT_F32;
    out->ndim = static_cast<int>(t.dim());
    for (int d = 0; d < out->ndim && d < FT_MAX_DIMS; d++) out->shape[d] = t.size(d);
    out->nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    out->is_parameter = 0;
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_optimizer_state_get(ft_optimizer *o, size_t i, void *dst, size_t nbytes) noexcept {
    if (!o || !dst) return bad_arg("ft_optimizer_state_get: NULL argument");
    if (i >= o->state_names.size()) return bad_arg("optimizer state index out of range");
    FT_GUARD_BEGIN
    auto t = o->state_tensors[i].detach().to(torch::kCPU).contiguous();
    if (static_cast<size_t>(t.numel()) * t.element_size() != nbytes) return bad_arg("size mismatch");
    std::memcpy(dst, t.data_ptr(), nbytes);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_optimizer_state_set(ft_optimizer *o, const char *name, ft_dtype dtype, int ndim, const int64_t *shape,
                                  const void *src, size_t nbytes, int *used) noexcept {
    if (!o || !name || !used || (!src && nbytes)) return bad_arg("ft_optimizer_state_set: NULL argument");
    *used = 0;
    FT_GUARD_BEGIN
    std::string full = name;
    size_t dot = full.rfind('.');
    if (dot == std::string::npos) return nullptr;
    std::string param = full.substr(0, dot), field = full.substr(dot + 1);
    size_t idx = 0;
    while (idx < o->names.size() && o->names[idx] != param) idx++;
    if (idx == o->names.size()) return nullptr;   // not trained now: ignored
    const torch::Tensor &p = o->params[idx];
    std::vector<int64_t> dims(shape, shape + ndim);
    auto host = torch::empty(dims, dtype == FT_I64 ? torch::kInt64 : torch::kFloat32);
    if (static_cast<size_t>(host.numel()) * host.element_size() != nbytes)
        return bad_arg("optimizer state '" + full + "' has a wrong size");
    if (nbytes) std::memcpy(host.data_ptr(), src, nbytes);
    auto &state = o->opt->state();
    auto key = frost::optim_state_key(p);
    bool tensor_field = field != "step";
    if (tensor_field && (dtype != FT_F32 || host.sizes() != p.sizes()))
        return bad_arg("optimizer state '" + full + "' does not match the parameter's shape");
    auto value = host.to(p.device());
    if (o->kind == FT_OPT_ADAM) {
        if (field != "step" && field != "exp_avg" && field != "exp_avg_sq") return nullptr;
        if (!state.count(key)) {
            auto s = std::make_unique<torch::optim::AdamParamState>();
            s->step(0);
            s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
            s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
            state[key] = std::move(s);
        }
        auto &s = static_cast<torch::optim::AdamParamState &>(*state[key]);
        if (field == "step")
            s.step(host.numel() == 1 ? host.item<int64_t>() : 0);
        else if (field == "exp_avg")
            s.exp_avg(value);
        else
            s.exp_avg_sq(value);
    } else {
        if (field != "momentum_buffer") return nullptr;
        auto s = std::make_unique<torch::optim::SGDParamState>();
        s->momentum_buffer(value);
        state[key] = std::move(s);
    }
    *used = 1;
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
