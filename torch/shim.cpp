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
err at_add(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::add(*a, *b)) }
err at_sub(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::sub(*a, *b)) }
err at_mul(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::mul(*a, *b)) }
err at_div(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::div(*a, *b)) }
err at_eq(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::eq(*a, *b)) }
err at_add_scalar(tensor a, double s, tensor *out) { RETURN_TENSOR(at::add(*a, s)) }
err at_mul_scalar(tensor a, double s, tensor *out) { RETURN_TENSOR(at::mul(*a, s)) }
err at_div_scalar(tensor a, double s, tensor *out) { RETURN_TENSOR(at::div(*a, s)) }
err at_matmul(tensor a, tensor b, tensor *out) { RETURN_TENSOR(at::matmul(*a, *b)) }
err at_linear(tensor x, tensor w, tensor b, tensor *out) { RETURN_TENSOR(at::linear(*x, *w, opt(b))) }

err at_conv2d(tensor x, tensor w, tensor b, const int64_t *stride, const int64_t *padding,
              const int64_t *dilation, int64_t groups, tensor *out) {
  RETURN_TENSOR(at::conv2d(*x, *w, opt(b), ints(stride, 2), ints(padding, 2), ints(dilation, 2),
                           groups))
}

err at_max_pool2d(tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                  tensor *out) {
  RETURN_TENSOR(at::max_pool2d(*x, ints(kernel, 2), ints(stride, 2), ints(padding, 2)))
}

err at_relu(tensor x, tensor *out) { RETURN_TENSOR(at::relu(*x)) }
err at_tanh(tensor x, tensor *out) { RETURN_TENSOR(at::tanh(*x)) }
err at_gelu(tensor x, int tanh_approx, tensor *out) {
  RETURN_TENSOR(at::gelu(*x, tanh_approx ? "tanh" : "none"))
}
err at_softmax(tensor x, int64_t dim, tensor *out) { RETURN_TENSOR(at::softmax(*x, dim)) }
err at_log_softmax(tensor x, int64_t dim, tensor *out) { RETURN_TENSOR(at::log_softmax(*x, dim)) }
err at_cross_entropy(tensor logits, tensor targets, tensor *out) {
  RETURN_TENSOR(at::cross_entropy_loss(*logits, *targets))
}
err at_layer_norm(tensor x, const int64_t *shape, int ndim, tensor w, tensor b, double eps,
                  tensor *out) {
  RETURN_TENSOR(at::layer_norm(*x, ints(shape, ndim), opt(w), opt(b), eps))
}
err at_embedding(tensor weight, tensor indices, tensor *out) {
  RETURN_TENSOR(at::embedding(*weight, *indices))
}
err at_index_select(tensor x, int64_t dim, tensor index, tensor *out) {
  RETURN_TENSOR(at::index_select(*x, dim, *index))
}
err at_masked_fill(tensor x, tensor mask, double value, tensor *out) {
  RETURN_TENSOR(at::masked_fill(*x, *mask, value))
}
err at_cat(const tensor *ts, int n, int64_t dim, tensor *out) {
  PROTECT({
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) v.push_back(*ts[i]);
    *out = new torch::Tensor(at::cat(v, dim));
  })
}
err at_narrow(tensor x, int64_t dim, int64_t start, int64_t length, tensor *out) {
  RETURN_TENSOR(x->narrow(dim, start, length))
}
err at_reshape(tensor x, const int64_t *shape, int ndim, tensor *out) {
  RETURN_TENSOR(x->reshape(ints(shape, ndim)))
}
err at_view(tensor x, const int64_t *shape, int ndim, tensor *out) {
  RETURN_TENSOR(x->view(ints(shape, ndim)))
}
err at_transpose(tensor x, int64_t d0, int64_t d1, tensor *out) { RETURN_TENSOR(x->transpose(d0, d1)) }
err at_permute(tensor x, const int64_t *dims, int ndim, tensor *out) {
  RETURN_TENSOR(x->permute(ints(dims, ndim)))
}
err at_contiguous(tensor x, tensor *out) { RETURN_TENSOR(x->contiguous()) }
err at_flatten(tensor x, int64_t start, int64_t end, tensor *out) {
  RETURN_TENSOR(x->flatten(start, end))
}
err at_argmax(tensor x, int64_t dim, int keepdim, tensor *out) {
  RETURN_TENSOR(at::argmax(*x, dim, keepdim != 0))
}
err at_sum(tensor x, int dtype, tensor *out) {
  RETURN_TENSOR(dtype < 0 ? at::sum(*x) : at::sum(*x, dtype_of(dtype)))
}
err at_sum_dims(tensor x, const int64_t *dims, int ndim, int keepdim, tensor *out) {
  RETURN_TENSOR(at::sum(*x, ints(dims, ndim), keepdim != 0))
}
err at_mean(tensor x, tensor *out) { RETURN_TENSOR(at::mean(*x)) }
err at_mean_dims(tensor x, const int64_t *dims, int ndim, int keepdim, tensor *out) {
  RETURN_TENSOR(at::mean(*x, ints(dims, ndim), keepdim != 0))
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
