//go:build libtorch

// shim.cpp: the C entry points declared in shim.h. One libtorch call per
// function, no logic beyond forwarding; every body inside PROTECT so that no
// C++ exception crosses into Go. See shim.h for the error and ownership rules.
#include "shim.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/cuda.h>
#include <torch/headeronly/version.h>
#include <torch/optim/adam.h>

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

char *dup_msg(const char *m) {
  size_t n = std::strlen(m);
  char *s = static_cast<char *>(std::malloc(n + 1));
  if (s != nullptr) std::memcpy(s, m, n + 1);
  return s;
}

c10::Device device_of(int d) {
  if (d < 0) return c10::Device(c10::kCPU);
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(d));
}

int device_code(const c10::Device &d) {
  if (d.is_cpu()) return -1;
  if (d.is_cuda()) return d.has_index() ? d.index() : 0;
  return -2;  // another device type; Go reports it as unknown
}

at::ScalarType dtype_of(int d) { return static_cast<at::ScalarType>(d); }

at::IntArrayRef ints(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

c10::optional<at::Tensor> opt(tensor t) {
  if (t == nullptr) return c10::nullopt;
  return *t;
}

}  // namespace

// PROTECT runs body; a C++ exception becomes the returned message.
// c10::Error's what() carries a C++ backtrace; the short form is what Go wants.
#define PROTECT(body)                                          \
  try {                                                        \
    body;                                                      \
    return nullptr;                                            \
  } catch (const c10::Error &e) {                              \
    return dup_msg(e.what_without_backtrace());                \
  } catch (const std::exception &e) {                          \
    return dup_msg(e.what());                                  \
  } catch (...) {                                              \
    return dup_msg("unknown C++ exception");                   \
  }

#define RETURN_TENSOR(expr) PROTECT(*out = new torch::Tensor(expr))

extern "C" {

// ---- library ----
const char *at_version(void) { return TORCH_VERSION; }

int at_cuda_device_count(void) {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

err at_load_cuda(int *loaded) {
  *loaded = 0;
  // libtorch_cpu.so is loaded (the binary links it): find its folder.
  void *cpu = dlopen("libtorch_cpu.so", RTLD_NOW | RTLD_NOLOAD);
  if (cpu == nullptr) return dup_msg("libtorch_cpu.so is not loaded");
  struct link_map *lm = nullptr;
  int rc = dlinfo(cpu, RTLD_DI_LINKMAP, &lm);
  dlclose(cpu);
  if (rc != 0 || lm == nullptr || lm->l_name == nullptr) return dup_msg("dlinfo(libtorch_cpu.so) failed");
  std::string path(lm->l_name);
  size_t slash = path.rfind('/');
  path = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + "libtorch_cuda.so";
  if (access(path.c_str(), F_OK) != 0) return nullptr;  // a CPU-only libtorch
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char *m = dlerror();
    return dup_msg(m != nullptr ? m : "dlopen libtorch_cuda.so failed");
  }
  *loaded = 1;
  return nullptr;
}

err at_manual_seed(uint64_t seed) { PROTECT(at::manual_seed(seed)) }
err at_set_num_threads(int n) { PROTECT(at::set_num_threads(n)) }
int at_get_num_threads(void) { return at::get_num_threads(); }
err at_set_cudnn(int benchmark, int deterministic, int *prev_benchmark, int *prev_deterministic) {
  PROTECT(auto &ctx = at::globalContext(); *prev_benchmark = ctx.benchmarkCuDNN() ? 1 : 0;
          *prev_deterministic = ctx.deterministicCuDNN() ? 1 : 0; ctx.setBenchmarkCuDNN(benchmark != 0);
          ctx.setDeterministicCuDNN(deterministic != 0))
}
err at_cuda_math(int *benchmark, int *deterministic, int *tf32_matmul, int *tf32_conv) {
  PROTECT(auto &ctx = at::globalContext(); *benchmark = ctx.benchmarkCuDNN() ? 1 : 0;
          *deterministic = ctx.deterministicCuDNN() ? 1 : 0;
          *tf32_matmul = ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL) ==
                                 at::Float32Precision::TF32 ? 1 : 0;
          *tf32_conv = ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV) ==
                               at::Float32Precision::TF32 ? 1 : 0)
}
err at_synchronize(int device) { PROTECT(if (device >= 0) torch::cuda::synchronize(device)) }

err at_set_grad_enabled(int enabled, int *prev) {
  PROTECT(*prev = c10::GradMode::is_enabled(); c10::GradMode::set_enabled(enabled != 0))
}

// ---- tensors ----
void at_free(tensor t) { delete t; }

err at_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, int dtype,
                 tensor *out) {
  PROTECT({
    auto opts = at::TensorOptions().dtype(dtype_of(dtype));
    auto sizes = ints(shape, ndim);
    int64_t numel = c10::multiply_integers(sizes);
    size_t want = static_cast<size_t>(numel) * at::elementSize(dtype_of(dtype));
    TORCH_CHECK(want == nbytes, "shape ", sizes, " of ", dtype_of(dtype), " needs ", want,
                " bytes, got ", nbytes);
    if (numel == 0) {
      *out = new torch::Tensor(at::empty(sizes, opts));
    } else {
      // from_blob does not copy; clone makes the one copy into libtorch memory.
      *out = new torch::Tensor(at::from_blob(const_cast<void *>(data), sizes, opts).clone());
    }
  })
}

err at_copy_data(tensor t, void *dst, size_t nbytes) {
  PROTECT({
    at::Tensor c = t->detach().to(at::kCPU).contiguous();
    TORCH_CHECK(c.nbytes() == nbytes, "tensor has ", c.nbytes(), " bytes, buffer ", nbytes);
    if (nbytes > 0) std::memcpy(dst, c.data_ptr(), nbytes);
  })
}

err at_info(tensor t, int64_t *dims, int maxdim, int *ndim, int *dtype, int *device,
            int *requires_grad) {
  PROTECT({
    TORCH_CHECK(t->defined(), "undefined tensor");
    auto s = t->sizes();
    *ndim = static_cast<int>(s.size());
    for (int i = 0; i < *ndim && i < maxdim; i++) dims[i] = s[i];
    *dtype = static_cast<int>(t->scalar_type());
    *device = device_code(t->device());
    *requires_grad = t->requires_grad();
  })
}

err at_item(tensor t, double *out) { PROTECT(*out = t->item().toDouble()) }

err at_full(const int64_t *shape, int ndim, double value, int dtype, int device, tensor *out) {
  RETURN_TENSOR(at::full(ints(shape, ndim), value,
                         at::TensorOptions().dtype(dtype_of(dtype)).device(device_of(device))))
}

err at_rand(const int64_t *shape, int ndim, int normal, int dtype, int device, tensor *out) {
  PROTECT({
    auto opts = at::TensorOptions().dtype(dtype_of(dtype)).device(device_of(device));
    *out = new torch::Tensor(normal ? at::randn(ints(shape, ndim), opts)
                                    : at::rand(ints(shape, ndim), opts));
  })
}

err at_to(tensor t, int device, int dtype, tensor *out) {
  RETURN_TENSOR(t->to(device == -100 ? t->device() : device_of(device),
                      dtype < 0 ? t->scalar_type() : dtype_of(dtype)))
}

err at_copy_(tensor dst, tensor src) {
  PROTECT({
    at::NoGradGuard g;
    dst->copy_(*src);
  })
}

err at_clone(tensor t, tensor *out) { RETURN_TENSOR(t->clone()) }
err at_detach(tensor t, tensor *out) { RETURN_TENSOR(t->detach()) }
err at_shallow_clone(tensor t, tensor *out) { RETURN_TENSOR(*t) }

// ---- ops ----
#include "shim_ops_impl.h"  // the ops of ops.def (go generate)

err at_conv2d(tensor x, tensor w, tensor b, const int64_t *stride, const int64_t *padding,
              const int64_t *dilation, int64_t groups, tensor *out) {
  RETURN_TENSOR(at::conv2d(*x, *w, opt(b), ints(stride, 2), ints(padding, 2), ints(dilation, 2),
                           groups))
}

err at_max_pool2d(tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                  tensor *out) {
  RETURN_TENSOR(at::max_pool2d(*x, ints(kernel, 2), ints(stride, 2), ints(padding, 2)))
}

err at_cat(const tensor *ts, int n, int64_t dim, tensor *out) {
  PROTECT({
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) v.push_back(*ts[i]);
    *out = new torch::Tensor(at::cat(v, dim));
  })
}
err at_sdpa(tensor q, tensor k, tensor v, tensor mask, int is_causal, double scale, tensor *out) {
  RETURN_TENSOR(at::scaled_dot_product_attention(
      *q, *k, *v, opt(mask), 0.0, is_causal != 0,
      scale > 0 ? c10::optional<double>(scale) : c10::nullopt))
}

// ---- autograd ----
err at_set_requires_grad(tensor t, int b) { PROTECT(t->set_requires_grad(b != 0)) }
err at_backward(tensor t) { PROTECT(t->backward()) }
err at_grad(tensor t, tensor *out) {
  PROTECT({
    const at::Tensor &g = t->grad();
    *out = g.defined() ? new torch::Tensor(g) : nullptr;
  })
}
err at_zero_grad(tensor t) { PROTECT(t->mutable_grad().reset()) }

// ---- optimizers ----
err ato_adam(const tensor *params, int n, double lr, double beta1, double beta2, double eps,
             double weight_decay, optimizer *out) {
  PROTECT({
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) v.push_back(*params[i]);
    auto o = torch::optim::AdamOptions(lr)
                 .betas(std::make_tuple(beta1, beta2))
                 .eps(eps)
                 .weight_decay(weight_decay);
    *out = new torch::optim::Adam(v, o);
  })
}
err ato_step(optimizer o) { PROTECT(o->step()) }
err ato_zero_grad(optimizer o) { PROTECT(o->zero_grad(true)) }
err ato_set_lr(optimizer o, double lr) {
  PROTECT(for (auto &g : o->param_groups()) g.options().set_lr(lr))
}
void ato_free(optimizer o) { delete o; }

}  // extern "C"
