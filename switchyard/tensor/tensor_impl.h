// TensorImpl: what a Tensor handle points at. A storage plus the geometry that
// reads it (sizes, strides in elements, offset), the element type, the device,
// the dispatch keys calls on this tensor carry, and a slot for autograd's state.
//
// The key set follows from the device, inference and autograd: the backend key
// of the device; ADInplaceOrView unless the tensor is an inference tensor (that
// key's kernels bump version counters and record views, and fall through for
// every other op, at no cost); and the backend's autograd key when the tensor
// requires grad, carries a forward-mode tangent, or is a differentiable view
// (whose base may come to need either). So calls on other tensors skip
// autograd's kernels. A tensor made while its thread is
// in inference mode is an inference tensor.
//
// The autograd slot (See Note [Autograd slot]) holds an object of a class
// that autograd/ derives from AutogradMetaInterface: tensor/ owns and deletes
// it and never looks inside, so this layer does not include autograd/.
//
// Thread-safety: reading metadata from many threads is safe; changing it
// (set_requires_grad, set_geometry) while another thread reads is a data race,
// as for any mutable object.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

// Note [Autograd slot]
// Autograd's per-tensor state (grad, grad_fn and output number, hooks, tangents
// per forward-mode level, view bookkeeping) lives in an object of a class the
// autograd layer derives from this one. Tensors that never meet autograd keep
// the slot null and pay one pointer.
class SY_API AutogradMetaInterface {
 public:
  virtual ~AutogradMetaInterface() = default;
  // The name of the node that made the tensor ("MulBackward0"), or empty for
  // a leaf: what printing a tensor shows.
  virtual std::string grad_fn_name() const = 0;
  // For a differentiable view (TensorImpl::set_differentiable_view): whether
  // its base requires grad, and whether the tensor whose tangent it shares
  // carries one. A view follows its base in both (See Note [Views and
  // in-place ops] in autograd/view_nodes.h).
  virtual bool base_requires_grad() const = 0;
  virtual bool base_has_forward_grad() const = 0;
};

class SY_API TensorImpl : public RefCounted {
 public:
  // More than kMaxTensorDims sizes is a ValueError.
  TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
             int64_t storage_offset);

  // A new contiguous tensor of `sizes` (whose product, `numel`, the caller
  // computed) over `storage`: the constructor above with contiguous strides
  // and offset 0, for make_tensor(), without working the geometry out again.
  static IntrusivePtr<TensorImpl> make_contiguous(Storage storage, ScalarType dtype,
                                                  IntArrayRef sizes, int64_t numel);

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
  // Set on the tensor itself, or, for a differentiable view, on its base (a
  // view of a base that starts requiring grad requires grad, as in PyTorch).
  bool requires_grad() const {
    return requires_grad_ ||
           (SY_UNLIKELY(differentiable_view_) && autograd_meta()->base_requires_grad());
  }
  // Set on the tensor itself (a leaf the user marked, or a recorded result).
  bool requires_grad_flag() const { return requires_grad_; }
  bool is_contiguous() const { return is_contiguous_; }
  // Whether the tensor was made in inference mode (see autograd/grad_mode.h);
  // views set it to their base's.
  bool is_inference() const { return is_inference_; }
  void set_inference(bool inference) {
    is_inference_ = inference;
    refresh_keys();  // ADInplaceOrView follows it
  }

  // Whether this is a wrapper of a higher layer (vmap's batched tensors): a
  // tensor with a fixed key set and no backend key, whose data is not its own
  // to read (See Note [Wrapper tensors]).
  bool is_wrapper() const { return is_wrapper_; }
  // For a wrapper: what printing shows, and the error for reading its data
  // (`action` names the reader: "item()"). Plain tensors never call them.
  virtual std::string wrapper_repr() const;
  [[noreturn]] virtual void throw_wrapper_data_access(std::string_view action) const;

  // Address of the first element; null for meta tensors and empty storages.
  void* data() const {
    auto* base = static_cast<char*>(storage_->data());
    return base ? base + storage_offset_ * element_size(dtype_) : nullptr;
  }

  // The Python wrapper of this tensor, or null: an opaque pointer that only the
  // Python bindings set and read, so that a tensor keeps one Python object. The
  // wrapper owns one reference to the impl; the impl holds the wrapper while
  // anything else holds the impl too (See Note [A wrapped object's count] in
  // core/intrusive_ptr.h, and Note [One wrapper per tensor] in
  // python/tensor.cpp). The tensor layer never dereferences it.
  void* python_wrapper() const { return python_wrapper_; }
  // Sets the wrapper and marks the count (which unbiases it); returns the
  // count at that moment, or 0 when the count could not be marked (the impl is
  // biased to another live thread): then the wrapper is kept without owning,
  // as a plain pointer that its dealloc clears.
  uint32_t keep_python_wrapper(void* wrapper) {
    python_wrapper_ = wrapper;
    return mark_wrapped();
  }
  // The wrapper's dealloc: clears the wrapper, unmarks the count and drops the
  // wrapper's reference when it is the last one. Returns true when it did so
  // (the impl is freed: the wrapper forgets its handle without dropping it);
  // false when other references remain (the wrapper drops its handle).
  bool release_python_wrapper() {
    python_wrapper_ = nullptr;
    return unmark_wrapped_and_free_if_last();
  }
  // Called with the impl and hold = true when the count of an impl with a kept
  // wrapper goes from one to two, hold = false when it goes back to one; on
  // any thread. Set once, by the Python bindings.
  using PythonWrapperHook = void (*)(const TensorImpl& impl, bool hold);
  static void set_python_wrapper_hook(PythonWrapperHook hook);

  // Adds or removes the Python key in the tensor's key set (a tensor subclass
  // with __sy_dispatch__).
  void set_python_dispatch(bool on);

  // Gives up the calling thread's bias on this impl and its storage (see
  // RefCounted::unbias), for a tensor that will live on, and most likely die
  // on, other threads.
  void unbias_with_storage() const {
    unbias();
    storage_->unbias();
  }

  // Sets requires_grad and updates the key set to match.
  void set_requires_grad(bool requires_grad);
  // Marks the tensor as carrying a forward-mode tangent (or not): the autograd
  // keys stay in the key set while either this or requires_grad holds.
  void set_has_forward_grad(bool has_forward_grad);
  // Carries a tangent itself or, for a differentiable view, through its base.
  bool has_forward_grad() const {
    return has_forward_grad_ ||
           (SY_UNLIKELY(differentiable_view_) && autograd_meta()->base_has_forward_grad());
  }
  // Marks the tensor as a view whose requires_grad and tangents follow its
  // base's (autograd's view ops, after installing the autograd slot): such a
  // view keeps the autograd key, since its base can start requiring grad or
  // get a tangent at any time through an in-place op on another view.
  void set_differentiable_view(bool on);
  // Set on the tensor itself (a tangent autograd stored on it).
  bool has_forward_grad_flag() const { return has_forward_grad_; }
  bool is_differentiable_view() const { return differentiable_view_; }

  // Autograd's state for this tensor, or null (See Note [Autograd slot]).
  AutogradMetaInterface* autograd_meta() const {
    return autograd_meta_.load(std::memory_order_acquire);
  }
  // Installs `meta` unless the slot holds one already; returns the slot's
  // object (`meta`, or the one another thread installed first).
  AutogradMetaInterface* install_autograd_meta(std::unique_ptr<AutogradMetaInterface> meta);
  ~TensorImpl() override;

  // The version counter of the storage, shared by every view of it.
  uint32_t version() const { return storage_->version(); }
  void bump_version() const { storage_->bump_version(); }
  // Replaces sizes, strides and offset (for views made in place); the caller
  // checks that the geometry stays inside the storage.
  void set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset);

 protected:
  // Note [Wrapper tensors]
  // A layer above tensor/ (transforms/) makes tensors that stand for another
  // tensor: a subclass built with this constructor has `keys` as its whole key
  // set, whatever its device or requires_grad, so calls on it reach that
  // layer's kernels and never a backend kernel. It shares `storage` (and so the
  // version counter) with the tensor it wraps; its data is not read through it.
  TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
             int64_t storage_offset, DispatchKeySet wrapper_keys);

 private:
  TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, int64_t numel);
  void refresh_derived();
  void wrapped_count_edge(bool hold) const override;
  void refresh_keys();

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
  bool python_dispatch_ = false;
  bool has_forward_grad_ = false;
  bool differentiable_view_ = false;
  bool is_wrapper_ = false;
  void* python_wrapper_ = nullptr;
  std::atomic<AutogradMetaInterface*> autograd_meta_{nullptr};  // owned
};

// Strides of a contiguous (row-major) tensor of `sizes`.
SY_API DimVector contiguous_strides(IntArrayRef sizes);

}  // namespace sy
