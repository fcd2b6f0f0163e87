// libFuzzer target for the schema language. Every input must either throw
// sy::SchemaError with a well-formed message, or parse to a schema that prints
// to text that parses back to an equal schema and prints identically. Anything
// else (another exception, a failed round trip, a sanitizer report) aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "switchyard/core/error.h"
#include "switchyard/dispatch/function_schema.h"

namespace {

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "schema_parser_fuzzer: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// what() is "<first line>\n  <source line>\n  <caret line>"; the caret line
// holds only the indentation (spaces, or tabs copied from the source) and '^'.
void check_error_message(std::string_view message) {
  const size_t first = message.find('\n');
  const size_t second = first == std::string_view::npos ? first : message.find('\n', first + 1);
  if (second == std::string_view::npos ||
      message.find('\n', second + 1) != std::string_view::npos || message.find(" at ") > first ||
      message.substr(first + 1, 2) != "  ") {
    die("malformed SchemaError message", message);
  }
  const std::string_view caret = message.substr(second + 1);
  if (caret.size() < 3 || caret.substr(0, 2) != "  " || caret.back() != '^' ||
      caret.find_first_not_of(" \t", 2) != caret.size() - 1) {
    die("malformed caret line", message);
  }
}

void check_round_trip(const sy::FunctionSchema& schema) {
  const std::string printed = schema.to_string();
  sy::FunctionSchema reparsed;
  try {
    reparsed = sy::parse_schema(printed);
  } catch (const sy::SchemaError& e) {
    die("printed schema does not parse", printed + "\n" + e.what());
  }
  if (!(reparsed == schema)) die("reparsed schema differs", printed);
  if (reparsed.to_string() != printed) die("printing is not stable", printed);
  for (const sy::Argument& arg : schema.arguments()) {
    if (arg.default_value && !arg.type.accepts(*arg.default_value)) {
      die("a default does not satisfy its type", arg.to_string());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check_round_trip(sy::parse_schema(text));
  } catch (const sy::SchemaError& e) {
    check_error_message(e.what());
  } catch (const std::exception& e) {
    die("unexpected exception type", e.what());
  } catch (...) {
    die("unexpected non-std exception", text);
  }
  try {
    const sy::OperatorName op = sy::parse_operator_name(text);
    if (sy::parse_operator_name(op.full_name()).full_name() != op.full_name()) {
      die("operator name does not round trip", op.full_name());
    }
  } catch (const sy::SchemaError& e) {
    check_error_message(e.what());
  } catch (const std::exception& e) {
    die("unexpected exception type", e.what());
  }
  return 0;
}
