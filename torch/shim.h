// shim.h: a flat C interface over libtorch for package torch (cgo).
//
// Shape after tch-rs torch-sys/libtch/torch_api.h, with one change: errors are
// returned by value. Every function that can fail returns NULL on success or
// a malloc'd, NUL-terminated message that the caller frees with free(); Go may
// run two consecutive cgo calls on different OS threads, so a thread-local
// "last error" would not work. Results come back through out-parameters.
//
// Ownership: every tensor / optimizer handle an out-parameter returns is a new
// heap object the caller owns and frees exactly once with at_free /
// ato_free. Input buffers are only read during the call: their bytes are
// copied into memory libtorch owns before the function returns.
//
// Compiles as C (for cgo) and as C++ (shim.cpp).
#ifndef MLBENCH_TORCH_SHIM_H
#define MLBENCH_TORCH_SHIM_H

#include "libtorch_check.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#include <torch/types.h>
#include <torch/optim/optimizer.h>
typedef torch::Tensor *tensor;
typedef torch::optim::Optimizer *optimizer;
extern "C" {
#else
typedef void *tensor;
typedef void *optimizer;
#endif

// err is the return type of every fallible function: NULL or a malloc'd message.
typedef char *err;

// Devices are encoded as one int: -1 is the CPU, n >= 0 is cuda:n.
// Dtypes are c10::ScalarType values (kByte=0, kInt=3, kLong=4, kFloat=6, ...).

// ---- library ----
const char *at_version(void);        // static string, do not free
int at_cuda_device_count(void);      // 0 when CUDA is absent or unusable
// at_load_cuda dlopens libtorch_cuda.so from the folder of the libtorch_cpu.so
// in use, when it is there (a CPU-only libtorch has none): CUDA registers
// itself with ATen only when that library is loaded. *loaded says whether it
// was; an error is a present but unloadable library.
err at_load_cuda(int *loaded);
err at_manual_seed(uint64_t seed);
err at_set_num_threads(int n);
int at_get_num_threads(void);
// cuDNN flags (at::globalContext()): the values before the call come back in *prev_*.
err at_set_cudnn(int benchmark, int deterministic, int *prev_benchmark, int *prev_deterministic);
// CUDA math settings in effect: cuDNN benchmark and deterministic, and whether
// TF32 is allowed for CUDA matmuls (cuBLAS) and for cuDNN convolutions.
err at_cuda_math(int *benchmark, int *deterministic, int *tf32_matmul, int *tf32_conv);
err at_synchronize(int device);
err at_set_grad_enabled(int enabled, int *prev);

// ---- tensors: lifetime, data in and out ----
void at_free(tensor t);
err at_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim,
                 int dtype, tensor *out);
err at_copy_data(tensor t, void *dst, size_t nbytes);
// at_info writes up to maxdim sizes into dims; *ndim is the true rank.
err at_info(tensor t, int64_t *dims, int maxdim, int *ndim, int *dtype, int *device,
            int *requires_grad);
err at_item(tensor t, double *out);
err at_full(const int64_t *shape, int ndim, double value, int dtype, int device,
            tensor *out);
err at_rand(const int64_t *shape, int ndim, int normal, int dtype, int device,
            tensor *out);
err at_to(tensor t, int device, int dtype, tensor *out);  // dtype -1 / device -100: keep
err at_copy_(tensor dst, tensor src);                     // in place, no grad
err at_clone(tensor t, tensor *out);
err at_detach(tensor t, tensor *out);
err at_shallow_clone(tensor t, tensor *out);  // new handle, same tensor

// ---- ops (one libtorch call each) ----
#include "shim_ops.h"  // the ops of ops.def (go generate)
err at_conv2d(tensor x, tensor w, tensor b /* may be NULL */, const int64_t *stride,
              const int64_t *padding, const int64_t *dilation, int64_t groups,
              tensor *out);
err at_max_pool2d(tensor x, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, tensor *out);
err at_cat(const tensor *ts, int n, int64_t dim, tensor *out);
// scaled_dot_product_attention(q, k, v, mask, dropout 0, is_causal, scale): mask may be
// NULL (bool: true = attend; float: added to the scores); scale <= 0: 1/sqrt(head dim).
err at_sdpa(tensor q, tensor k, tensor v, tensor mask, int is_causal, double scale, tensor *out);

// ---- autograd ----
err at_set_requires_grad(tensor t, int b);
err at_backward(tensor t);
err at_grad(tensor t, tensor *out);  // *out = NULL when no gradient yet
err at_zero_grad(tensor t);          // grad = None, as PyTorch's set_to_none

// ---- optimizers ----
err ato_adam(const tensor *params, int n, double lr, double beta1, double beta2,
             double eps, double weight_decay, optimizer *out);
err ato_step(optimizer o);
err ato_zero_grad(optimizer o);
err ato_set_lr(optimizer o, double lr);
void ato_free(optimizer o);

#ifdef __cplusplus
}
#endif
#endif
