#include "switchyard/aot/c_api.h"

#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "switchyard/aot/model.h"
#include "switchyard/ops/shape.h"
#include "switchyard/trace/graph_file.h"

struct sy_model {
  sy::aot::Model model;
};

namespace {

using sy::ScalarType;
using sy::Tensor;

constexpr int32_t kMaxDims = 64;

thread_local std::string tls_last_error;

int fail(int status, std::string message) {
  tls_last_error = std::move(message);
  return status;
}

std::optional<ScalarType> dtype_of(int32_t code) {
  switch (code) {
    case SY_BOOL: return sy::kBool;
    case SY_UINT8: return sy::kUInt8;
    case SY_INT32: return sy::kInt32;
    case SY_INT64: return sy::kInt64;
    case SY_FLOAT32: return sy::kFloat32;
    case SY_FLOAT64: return sy::kFloat64;
    case SY_FLOAT16: return sy::kFloat16;
    case SY_BFLOAT16: return sy::kBFloat16;
    default: return std::nullopt;
  }
}

int32_t code_of(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return SY_BOOL;
    case ScalarType::UInt8: return SY_UINT8;
    case ScalarType::Int32: return SY_INT32;
    case ScalarType::Int64: return SY_INT64;
    case ScalarType::Float32: return SY_FLOAT32;
    case ScalarType::Float64: return SY_FLOAT64;
    case ScalarType::Float16: return SY_FLOAT16;
    case ScalarType::BFloat16: return SY_BFLOAT16;
  }
  return -1;
}

// Thrown (and turned into a status) for refs that do not describe memory.
struct BadRef {
  std::string message;
};

// A tensor over the memory `r` describes; throws BadRef for a malformed ref.
Tensor wrap(const sy_tensor_ref& r, const char* what, size_t i) {
  const std::optional<ScalarType> dtype = dtype_of(r.dtype);
  if (!dtype)
    throw BadRef{
        fmt::format("{} {} has dtype code {}, not one of SY_BOOL..SY_BFLOAT16", what, i, r.dtype)};
  if (r.ndim < 0 || r.ndim > kMaxDims) {
    throw BadRef{fmt::format("{} {} has ndim {}, not 0 to {}", what, i, r.ndim, kMaxDims)};
  }
  if (r.ndim > 0 && r.sizes == nullptr) throw BadRef{fmt::format("{} {} has NULL sizes", what, i)};
  const sy::IntArrayRef sizes(r.sizes, static_cast<size_t>(r.ndim));
  const sy::DimVector strides = r.strides != nullptr
                                    ? sy::DimVector(sy::IntArrayRef(r.strides, r.ndim))
                                    : sy::contiguous_strides(sizes);
  // The elements it spans, checked for overflow.
  int64_t numel = 1, extent = 1;
  for (int32_t d = 0; d < r.ndim; ++d) {
    if (sizes[d] < 0 || strides[d] < 0) {
      throw BadRef{fmt::format("{} {} has size {} and stride {} at dim {}; both must be >= 0", what,
                               i, sizes[d], strides[d], d)};
    }
    int64_t span;
    if (__builtin_mul_overflow(numel, sizes[d], &numel) ||
        __builtin_mul_overflow(sizes[d] == 0 ? 0 : sizes[d] - 1, strides[d], &span) ||
        __builtin_add_overflow(extent, span, &extent)) {
      throw BadRef{fmt::format("{} {}: its sizes and strides overflow int64", what, i)};
    }
  }
  size_t nbytes = 0;
  if (numel > 0) {
    if (r.data == nullptr)
      throw BadRef{fmt::format("{} {} has NULL data and {} elements", what, i, numel)};
    if (__builtin_mul_overflow(static_cast<size_t>(extent), sy::element_size(*dtype), &nbytes)) {
      throw BadRef{fmt::format("{} {}: its byte size overflows", what, i)};
    }
  }
  auto storage = sy::Storage::make(sy::DataPtr{r.data, nullptr, nullptr}, nbytes,
                                   sy::Device(sy::DeviceType::CPU));
  return Tensor(sy::IntrusivePtr<sy::TensorImpl>::make(std::move(storage), *dtype, sizes,
                                                       sy::IntArrayRef(strides), 0));
}

// The calling thread's input tensors, reused between calls so a steady run
// allocates nothing.
thread_local std::vector<Tensor> tls_inputs;

}  // namespace

extern "C" {

int sy_abi_version(int* version) {
  if (version == nullptr) return fail(SY_ERROR_INVALID_ARGUMENT, "sy_abi_version: version is NULL");
  *version = SY_ABI_VERSION;
  return SY_OK;
}

int sy_model_load(const char* path, sy_model** out) {
  if (path == nullptr) return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_load: path is NULL");
  if (out == nullptr) return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_load: out is NULL");
  try {
    *out = new sy_model{sy::aot::Model::load(path)};
    return SY_OK;
  } catch (const sy::Error& e) {
    return fail(SY_ERROR_LOAD, e.what());
  } catch (const std::bad_alloc&) {
    return fail(SY_ERROR_INTERNAL, fmt::format("sy_model_load: out of memory loading '{}'", path));
  } catch (const std::exception& e) {
    return fail(SY_ERROR_INTERNAL, fmt::format("sy_model_load: {}", e.what()));
  }
}

int sy_model_num_inputs(const sy_model* model, size_t* out) {
  if (model == nullptr || out == nullptr) {
    return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_num_inputs: model or out is NULL");
  }
  *out = model->model.num_inputs();
  return SY_OK;
}

int sy_model_num_outputs(const sy_model* model, size_t* out) {
  if (model == nullptr || out == nullptr) {
    return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_num_outputs: model or out is NULL");
  }
  *out = model->model.num_outputs();
  return SY_OK;
}

int sy_model_run(sy_model* model, const sy_tensor_ref* inputs, size_t n_inputs,
                 sy_tensor_ref* outputs, size_t n_outputs) {
  if (model == nullptr) return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_run: model is NULL");
  const sy::aot::Model& m = model->model;
  if (n_inputs != m.num_inputs()) {
    return fail(
        SY_ERROR_INVALID_ARGUMENT,
        fmt::format("sy_model_run: the model takes {} inputs, got {}", m.num_inputs(), n_inputs));
  }
  if (n_outputs != m.num_outputs()) {
    return fail(SY_ERROR_INVALID_ARGUMENT,
                fmt::format("sy_model_run: the model has {} outputs, got {} refs", m.num_outputs(),
                            n_outputs));
  }
  if ((n_inputs > 0 && inputs == nullptr) || (n_outputs > 0 && outputs == nullptr)) {
    return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_run: inputs or outputs is NULL");
  }
  struct Release {  // the caller's memory is not held past the call
    ~Release() { tls_inputs.clear(); }
  } release;
  try {
    tls_inputs.clear();
    for (size_t i = 0; i < n_inputs; ++i) tls_inputs.push_back(wrap(inputs[i], "input", i));
    for (size_t k = 0; k < n_outputs; ++k) {
      if (outputs[k].data == nullptr) continue;
      const std::optional<ScalarType> t = dtype_of(outputs[k].dtype);
      if (t != m.output(k).dtype) {
        throw BadRef{fmt::format("output {} has dtype code {}, the model's output is {} (code {})",
                                 k, outputs[k].dtype, sy::to_string(m.output(k).dtype),
                                 code_of(m.output(k).dtype))};
      }
    }
    const sy::aot::BorrowedOutputs b = m.run_borrowed(tls_inputs);
    for (size_t k = 0; k < n_outputs; ++k) {
      const Tensor& t = b[k];
      sy_tensor_ref& r = outputs[k];
      if (r.data == nullptr) {
        r.data = t.raw_data();
        r.dtype = code_of(t.dtype());
        r.ndim = static_cast<int32_t>(t.dim());
        r.sizes = t.sizes().data();
        r.strides = t.strides().data();
        continue;
      }
      const Tensor buffer = wrap(r, "output", k);
      if (buffer.sizes() != t.sizes()) {
        throw BadRef{
            fmt::format("output {} has shape {}, but the model's output {} has shape {}: "
                        "pass a buffer of that shape, or NULL data to borrow it",
                        k, sy::to_string(buffer.sizes()), k, sy::to_string(t.sizes()))};
      }
      if (buffer.is_contiguous() && t.is_contiguous()) {
        if (t.numel() > 0) {
          std::memcpy(buffer.raw_data(), t.raw_data(), t.numel() * sy::element_size(t.dtype()));
        }
      } else {
        sy::copy_(buffer, t);
      }
    }
    return SY_OK;
  } catch (const BadRef& e) {
    return fail(SY_ERROR_INVALID_ARGUMENT, "sy_model_run: " + e.message);
  } catch (const sy::Error& e) {
    return fail(SY_ERROR_RUN, e.what());
  } catch (const std::bad_alloc&) {
    return fail(SY_ERROR_INTERNAL, "sy_model_run: out of memory");
  } catch (const std::exception& e) {
    return fail(SY_ERROR_INTERNAL, fmt::format("sy_model_run: {}", e.what()));
  }
}

int sy_model_release(sy_model* model) {
  delete model;
  return SY_OK;
}

const char* sy_last_error(void) { return tls_last_error.c_str(); }

}  // extern "C"
