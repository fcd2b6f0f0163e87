// TensorImpl: what a Tensor handle points at. A storage plus the geometry that
// reads it (sizes, strides in elements, offset), the element type, the device,
// and the dispatch keys calls on this tensor carry.
//
// The key set follows from the device and requires_grad: the backend key of the
// device, plus ADInplaceOrView and the backend's autograd key when the tensor
// requires grad. So calls on tensors that need no gradient skip autograd's keys.
// A tensor made while its thread is in inference mode is an inference tensor.
//
// Thread-safety: reading metadata from many threads is safe; changing it
// (set_requires_grad, set_geometry) while another thread reads is a data race,
// as for any mutable object.
#pragma once

#include <cstdint>

#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/export.h"
#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/tensor/device.h"
#include "switchyard/tensor/dim_vector.h"
#include "switchyard/tensor/scalar_type.h"
#include "switchyard/tensor/storage.h"

namespace sy {

// The most dimensions a tensor may have. Code that walks dimensions recursively
// (printing, tolist, nested-list conversion) relies on it; PyTorch 1.13 has no
// such cap, but nothing useful needs more.
inline constexpr int64_t kMaxTensorDims = 64;

class SY_API TensorImpl : public RefCounted {
 public:
  // More than kMaxTensorDims sizes is a ValueError.
  TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
             int64_t storage_offset);

  // Allocated from a per-thread cache of small blocks (storage.cpp).
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

  IntArrayRef sizes() const { return sizes_; }
  IntArrayRef strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(sizes_.size()); }
  int64_t numel() const { return numel_; }
  int64_t storage_offset() const { return storage_offset_; }
  ScalarType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  const Storage& storage() const { return storage_; }
  DispatchKeySet key_set() const { return key_set_; }
  bool requires_grad() const { return requires_grad_; }
  bool is_contiguous() const { return is_contiguous_; }
  // Whether the tensor was made in inference mode (see autograd/grad_mode.h);
  // views set it to their base's.
  bool is_inference() const { return is_inference_; }
  void set_inference(bool inference) { is_inference_ = inference; }

  // Address of the first element; null for meta tensors and empty storages.
  void* data() const {
    auto* base = static_cast<char*>(storage_->data());
    return base ? base + storage_offset_ * element_size(dtype_) : nullptr;
  }

  // The Python wrapper of this tensor, or null: an opaque, non-owning pointer
  // that only the Python bindings set and read (under the GIL), so that a
  // tensor keeps one Python object while that object lives. The wrapper clears
  // it when it dies; the tensor layer never dereferences it.
  void* python_wrapper() const { return python_wrapper_; }
  void set_python_wrapper(void* wrapper) { python_wrapper_ = wrapper; }

  // Gives up the calling thread's bias on this impl and its storage (see
  // RefCounted::unbias), for a tensor that will live on, and most likely die
  // on, other threads.
  void unbias_with_storage() const {
    unbias();
    storage_->unbias();
  }

  // Sets requires_grad and updates the key set to match.
  void set_requires_grad(bool requires_grad);
  // Replaces sizes, strides and offset (for views made in place); the caller
  // checks that the geometry stays inside the storage.
  void set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset);

 private:
  void refresh_derived();

  Storage storage_;
  DimVector sizes_;
  DimVector strides_;
  int64_t storage_offset_;
  int64_t numel_ = 1;
  DispatchKeySet key_set_;
  ScalarType dtype_;
  bool requires_grad_ = false;
  bool is_contiguous_ = true;
  bool is_inference_ = false;
  void* python_wrapper_ = nullptr;
};

// Strides of a contiguous (row-major) tensor of `sizes`.
SY_API DimVector contiguous_strides(IntArrayRef sizes);

}  // namespace sy
