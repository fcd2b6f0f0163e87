// Bad input never crashes: every op of the shared case table is called again
// with each integer argument (and each element of each int list) replaced by
// out-of-range, negative and large values. Each call must either work or throw
// an sy::Error; under AddressSanitizer this also proves no call reads or
// writes out of bounds on the way to its error.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

using testing_cases::cases;

constexpr int64_t kBadInts[] = {-100, -2, -1, 0, 1, 3, 1 << 20, int64_t{1} << 40};

// Calls `op` with `stack`; returns "" when it worked or threw an sy::Error,
// else what else happened.
std::string call_expecting_error_or_result(const OperatorHandle& op, Stack stack) {
  try {
    op.call_boxed(stack);
  } catch (const Error&) {
  } catch (const std::exception& e) {
    return std::string("a non-sy exception: ") + e.what();
  } catch (...) {
    return "an unknown exception";
  }
  return "";
}

TEST(OpBadInput, IntegerArgumentsOutOfRangeAreErrorsNotCrashes) {
  int calls = 0;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.op);
    OperatorHandle op = Dispatcher::singleton().find_op(c.op);
    const FunctionSchema schema = op.schema();
    const Stack base = testing_cases::build_stack(schema, c.make(kCPU), nullptr);
    for (size_t i = 0; i < base.size(); ++i) {
      if (base[i].is_int()) {
        for (int64_t bad : kBadInts) {
          Stack s = base;
          s[i] = IValue(bad);
          const std::string what = call_expecting_error_or_result(op, s);
          EXPECT_EQ(what, "") << "argument " << i << " = " << bad;
          ++calls;
        }
      }
      if (base[i].is_int_list()) {
        const std::vector<int64_t> list = base[i].to_int_list();
        for (size_t j = 0; j < list.size(); ++j) {
          for (int64_t bad : kBadInts) {
            std::vector<int64_t> l = list;
            l[j] = bad;
            Stack s = base;
            s[i] = IValue(l);
            const std::string what = call_expecting_error_or_result(op, s);
            EXPECT_EQ(what, "") << "argument " << i << "[" << j << "] = " << bad;
            ++calls;
          }
        }
      }
    }
  }
  EXPECT_GT(calls, 500);
}

}  // namespace
}  // namespace sy
