// The schema language's lexer and recursive-descent parser. The grammar:
//
//   schema    := opname '(' [params] ')' '->' returns
//   opname    := [ident '::'] ident ['.' ident]
//   params    := param (',' param)*          param := '*' | type ident ['=' literal]
//   type      := base ['(' ident ['!'] ')'] ('?' | '[' [int] ']')*
//   returns   := '(' ')' | 'None' | '(' type [ident] (',' type [ident])* ')' | type
//   literal   := ['-'] number | ['-'] inf | True | False | None | string | ident
//              | '[' [literal (',' literal)*] ']'
//
// Every error is a sy::SchemaError whose message names what was expected, where,
// and shows the line with a caret under the offending token.
#include <algorithm>
#include <charconv>
#include <limits>
#include <tuple>
#include <unordered_set>

#include "switchyard/core/error.h"
#include "switchyard/dispatch/function_schema.h"
#include "switchyard/tensor/layout.h"
#include "switchyard/tensor/scalar_type.h"

namespace sy {

namespace {

// Note [Schema size limits]
// The parser is fed untrusted text (and fuzzed), so whatever it builds stays
// bounded by the input: list types do not nest (IValue has no list of lists, so
// `int[][]` could never hold a value, and a chain of suffixes would otherwise
// make SchemaType arbitrarily deep), a type is optional at most once, and a
// fixed-size list is at most kMaxFixedListSize long, since a scalar default
// such as `int[N] x=0` expands to N elements.
constexpr int64_t kMaxFixedListSize = 1024;

enum class Tok : uint8_t {
  Ident,
  Int,
  Float,
  String,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Star,
  Question,
  Bang,
  Equals,
  Arrow,
  ColonColon,
  Dot,
  Minus,
  Invalid,  // an unknown character, or a malformed string literal (see Token::value)
  End,
};

struct Token {
  Tok kind;
  size_t begin;  // byte offsets into the source
  size_t end;
  std::string value;  // a string literal's contents; an Invalid token's error, if any
  std::string_view error_tail = {};
};

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// A character as a message shows it: a control character becomes '?', which
// keeps the caret in place and what() whole (a NUL would end the C string).
char shown(char c) { return (c >= 0 && c < ' ' && c != '\t') || c == 127 ? '?' : c; }

// UTF-8 continuation bytes do not start a character, so they take no column.
bool starts_char(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

// Throws the SchemaError for a problem at byte `offset` of `src`:
//   <head> at <line>:<col>[; <tail>]
//     <the source line>
//     <caret under col>
[[noreturn]] void throw_at(std::string_view src, size_t offset, std::string_view head,
                           std::string_view tail = {}) {
  offset = std::min(offset, src.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (src[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = src.size();
  if (line_end > line_start && src[line_end - 1] == '\r') --line_end;
  std::string text;
  for (size_t i = line_start; i < line_end; ++i) text += shown(src[i]);
  // Copying tabs keeps the caret aligned however the terminal expands them.
  std::string caret;
  for (size_t i = line_start; i < offset; ++i) {
    if (starts_char(src[i])) caret += src[i] == '\t' ? '\t' : ' ';
  }
  std::string message = fmt::format("{} at {}:{}", head, line, caret.size() + 1);
  if (!tail.empty()) message += fmt::format("; {}", tail);
  message += fmt::format("\n  {}\n  {}^", text, caret);
  throw SchemaError(message);
}

// Reads a quoted string starting at src[i]; on success returns the decoded
// contents and leaves `i` after the closing quote. A malformed literal becomes
// an Invalid token carrying the message, reported when the parser reaches it so
// that an earlier syntax error is still the one shown.
Token lex_string(std::string_view src, size_t& i) {
  const size_t begin = i;
  const char quote = src[i++];
  std::string value;
  while (i < src.size() && src[i] != quote) {
    char c = src[i++];
    if (c == '\\') {
      if (i == src.size()) break;
      const size_t escape_at = i - 1;
      switch (src[i++]) {
        case '\\': c = '\\'; break;
        case '"': c = '"'; break;
        case '\'': c = '\''; break;
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case '0': c = '\0'; break;
        default: {
          // Only a printable escape is quoted, so the message stays on one line.
          const char e = src[i - 1];
          const std::string shown = e > ' ' && e < 127 ? fmt::format(" '\\{}'", e) : std::string();
          return {Tok::Invalid, escape_at, i, "unknown escape sequence" + shown,
                  "expected one of \\\\ \\\" \\' \\n \\t \\r \\0"};
        }
      }
    }
    value += c;
  }
  if (i == src.size()) return {Tok::Invalid, begin, i, "unterminated string literal"};
  ++i;
  return {Tok::String, begin, i, std::move(value)};
}

// Digits, then an optional fraction and exponent: 1, 1., 1.5, 1e-5, 2.5E+3.
Token lex_number(std::string_view src, size_t& i) {
  const size_t begin = i;
  bool is_float = false;
  while (i < src.size() && is_digit(src[i])) ++i;
  if (i < src.size() && src[i] == '.') {
    is_float = true;
    ++i;
    while (i < src.size() && is_digit(src[i])) ++i;
  }
  if (i < src.size() && (src[i] == 'e' || src[i] == 'E')) {
    size_t j = i + 1;
    if (j < src.size() && (src[j] == '+' || src[j] == '-')) ++j;
    if (j < src.size() && is_digit(src[j])) {
      is_float = true;
      i = j;
      while (i < src.size() && is_digit(src[i])) ++i;
    }
  }
  return {is_float ? Tok::Float : Tok::Int, begin, i, {}};
}

// The whole input as tokens, ending in one End token placed right after the
// last real token, where a missing piece would go.
std::vector<Token> tokenize(std::string_view src) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < src.size() && is_space(src[i])) ++i;
    if (i == src.size()) break;
    const size_t begin = i;
    const char c = src[i];
    if (is_ident_start(c)) {
      while (i < src.size() && is_ident_char(src[i])) ++i;
      out.push_back({Tok::Ident, begin, i, {}});
    } else if (is_digit(c)) {
      out.push_back(lex_number(src, i));
    } else if (c == '"' || c == '\'') {
      out.push_back(lex_string(src, i));
      if (out.back().kind == Tok::Invalid) break;
    } else if (c == '-' && i + 1 < src.size() && src[i + 1] == '>') {
      i += 2;
      out.push_back({Tok::Arrow, begin, i, {}});
    } else if (c == ':' && i + 1 < src.size() && src[i + 1] == ':') {
      i += 2;
      out.push_back({Tok::ColonColon, begin, i, {}});
    } else {
      Tok kind = Tok::Invalid;
      switch (c) {
        case '(': kind = Tok::LParen; break;
        case ')': kind = Tok::RParen; break;
        case '[': kind = Tok::LBracket; break;
        case ']': kind = Tok::RBracket; break;
        case ',': kind = Tok::Comma; break;
        case '*': kind = Tok::Star; break;
        case '?': kind = Tok::Question; break;
        case '!': kind = Tok::Bang; break;
        case '=': kind = Tok::Equals; break;
        case '.': kind = Tok::Dot; break;
        case '-': kind = Tok::Minus; break;
        default: break;
      }
      ++i;
      out.push_back({kind, begin, i, {}});
    }
  }
  const size_t end = out.empty() ? 0 : out.back().end;
  out.push_back({Tok::End, end, end, {}});
  return out;
}

std::optional<SchemaType::Kind> base_kind(std::string_view name) {
  using K = SchemaType::Kind;
  if (name == "Tensor") return K::Tensor;
  if (name == "int") return K::Int;
  if (name == "float") return K::Float;
  if (name == "bool") return K::Bool;
  if (name == "str") return K::Str;
  if (name == "Scalar") return K::Scalar;
  if (name == "ScalarType") return K::ScalarType;
  if (name == "Device") return K::Device;
  if (name == "Layout") return K::Layout;
  if (name == "MemoryFormat") return K::MemoryFormat;
  if (name == "Generator") return K::Generator;
  // native_functions.yaml's symbolic sizes are plain ints here.
  if (name == "SymInt") return K::Int;
  return std::nullopt;
}

// A default value as written, before it is checked against the argument's type.
struct Literal {
  enum class Kind : uint8_t { Int, Float, Bool, None, String, Name, List };
  Kind kind = Kind::None;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string s;               // a String's contents or a Name
  std::vector<Literal> elems;  // a List's elements
  size_t begin = 0;            // source range, for error messages
  size_t end = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src), tokens_(tokenize(src)) {}

  FunctionSchema schema() {
    OperatorName op = operator_name();
    expect(Tok::LParen, "'(' after operator name");
    std::vector<Argument> args = arguments();
    expect(Tok::Arrow, "'->' after arguments");
    std::vector<Return> rets = returns();
    expect(Tok::End, "end of schema");
    return FunctionSchema(std::move(op.ns), std::move(op.name), std::move(op.overload),
                          std::move(args), std::move(rets));
  }

  OperatorName operator_name_only() {
    OperatorName op = operator_name();
    expect(Tok::End, "end of operator name");
    return op;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& advance() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;  // End stays current once reached
    return t;
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    advance();
    return true;
  }
  const Token& expect(Tok kind, std::string_view what) {
    if (peek().kind != kind) fail_expected(what);
    return advance();
  }
  std::string_view text(size_t begin, size_t end) const { return src_.substr(begin, end - begin); }
  std::string_view text(const Token& t) const { return text(t.begin, t.end); }
  // Source text quoted in a message's first line: one line, and not too long.
  std::string snippet(size_t begin, size_t end) const {
    constexpr size_t kMaxChars = 40;
    std::string out;
    for (char c : text(begin, end)) {
      if (!is_space(c)) {
        out += shown(c);
      } else if (!out.empty() && out.back() != ' ') {
        out += ' ';
      }
      if (out.size() > kMaxChars) return out + "...";
    }
    return out;
  }
  std::string ident(std::string_view what) { return std::string(text(expect(Tok::Ident, what))); }

  // A malformed string literal reports its own problem whatever was expected.
  [[noreturn]] void fail(const Token& t, std::string_view head, std::string_view tail = {}) {
    if (t.kind == Tok::Invalid && !t.value.empty()) throw_at(src_, t.begin, t.value, t.error_tail);
    throw_at(src_, t.begin, head, tail);
  }
  [[noreturn]] void fail_expected(std::string_view what) {
    fail(peek(), fmt::format("expected {}", what));
  }

  OperatorName operator_name() {
    OperatorName op;
    op.name = ident("operator name");
    if (accept(Tok::ColonColon)) {
      op.ns = std::move(op.name);
      op.name = ident("operator name after '::'");
    }
    if (accept(Tok::Dot)) op.overload = ident("overload name after '.'");
    return op;
  }

  std::vector<Argument> arguments() {
    std::vector<Argument> args;
    std::unordered_set<std::string> names;
    if (accept(Tok::RParen)) return args;
    bool kwarg_only = false;
    while (true) {
      if (peek().kind == Tok::Star) {
        if (kwarg_only) fail(peek(), "'*' may appear only once in the arguments");
        kwarg_only = true;
        advance();
        if (peek().kind == Tok::RParen) fail_expected("an argument after '*'");
        expect(Tok::Comma, "',' after '*'");
        continue;
      }
      Argument arg;
      arg.kwarg_only = kwarg_only;
      std::tie(arg.type, arg.alias) = parse_type();
      const Token& name = expect(Tok::Ident, "argument name");
      arg.name = text(name);
      if (!names.insert(arg.name).second) {
        fail(name, fmt::format("duplicate argument name '{}'", arg.name));
      }
      if (accept(Tok::Equals)) arg.default_value = default_value(arg.type);
      args.push_back(std::move(arg));
      if (accept(Tok::RParen)) return args;
      expect(Tok::Comma, "')' or ',' after argument");
    }
  }

  std::vector<Return> returns() {
    std::vector<Return> rets;
    // `-> None` is Python's spelling of no results (it prints as `-> ()`).
    if (peek().kind == Tok::Ident && text(peek()) == "None") {
      advance();
      return rets;
    }
    if (!accept(Tok::LParen)) {
      Return ret;
      std::tie(ret.type, ret.alias) = parse_type();
      rets.push_back(std::move(ret));
      return rets;
    }
    if (accept(Tok::RParen)) return rets;
    std::unordered_set<std::string> names;
    while (true) {
      Return ret;
      std::tie(ret.type, ret.alias) = parse_type();
      if (peek().kind == Tok::Ident) {
        ret.name = text(peek());
        if (!names.insert(ret.name).second) {
          fail(peek(), fmt::format("duplicate return name '{}'", ret.name));
        }
        advance();
      }
      rets.push_back(std::move(ret));
      if (accept(Tok::RParen)) return rets;
      expect(Tok::Comma, "')' or ',' after return");
    }
  }

  // A type and the alias annotation on its Tensor, if any. See Note [Schema size limits].
  std::pair<SchemaType, std::optional<AliasInfo>> parse_type() {
    const Token& name = peek();
    if (name.kind != Tok::Ident) fail_expected("a type");
    const std::optional<SchemaType::Kind> kind = base_kind(text(name));
    if (!kind) {
      fail(name, fmt::format("unknown type '{}'", text(name)),
           "expected one of Tensor, int, SymInt, float, bool, str, Scalar, ScalarType, Device, "
           "Layout, MemoryFormat, Generator");
    }
    advance();
    std::optional<AliasInfo> alias;
    if (peek().kind == Tok::LParen) {
      if (*kind != SchemaType::Kind::Tensor) {
        fail(peek(), "alias annotations are only allowed on Tensor types");
      }
      advance();
      alias = AliasInfo{ident("alias set name after '('"), false};
      alias->is_write = accept(Tok::Bang);
      expect(Tok::RParen,
             alias->is_write ? "')' after alias annotation" : "'!' or ')' after alias set");
    }
    SchemaType result = SchemaType::base(*kind);
    bool is_list = false;
    while (true) {
      if (peek().kind == Tok::Question) {
        if (result.kind() == SchemaType::Kind::Optional) {
          fail(peek(), fmt::format("type {} is already optional", result.to_string()));
        }
        advance();
        result = SchemaType::optional(std::move(result));
      } else if (peek().kind == Tok::LBracket) {
        if (is_list) fail(peek(), "lists of lists are not supported");
        advance();
        std::optional<int64_t> size;
        if (peek().kind == Tok::Int) size = list_size(advance());
        expect(Tok::RBracket, size ? "']' after list size" : "a list size or ']'");
        result = SchemaType::list(std::move(result), size);
        is_list = true;
      } else {
        if (*kind == SchemaType::Kind::Generator &&
            !(result.kind() == SchemaType::Kind::Optional && !is_list)) {
          throw_at(src_, name.begin, fmt::format("type {} is not supported", result.to_string()),
                   "write Generator? (its one value is None: switchyard has no generator "
                   "objects, random ops draw from the calling thread's generator)");
        }
        return {std::move(result), std::move(alias)};
      }
    }
  }

  int64_t list_size(const Token& t) {
    int64_t size = 0;
    auto [end, ec] = std::from_chars(src_.data() + t.begin, src_.data() + t.end, size);
    if (ec != std::errc() || size < 1 || size > kMaxFixedListSize) {
      fail(t, fmt::format("list size {} is out of range", text(t)),
           fmt::format("expected a size from 1 to {}", kMaxFixedListSize));
    }
    return size;
  }

  IValue default_value(const SchemaType& type) {
    const Literal lit = literal(/*in_list=*/false);
    return convert(lit, type, type);
  }

  Literal literal(bool in_list) {
    Literal lit;
    lit.begin = peek().begin;
    const bool negative = accept(Tok::Minus);
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Int:
      case Tok::Float: number(t, negative, lit); break;
      case Tok::Ident: {
        const std::string_view word = text(t);
        if (word == "inf") {
          lit.kind = Literal::Kind::Float;
          lit.d = negative ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
        } else if (negative) {
          fail_expected("a number after '-'");
        } else if (word == "True" || word == "False") {
          lit.kind = Literal::Kind::Bool;
          lit.b = word == "True";
        } else if (word == "None") {
          lit.kind = Literal::Kind::None;
        } else {
          lit.kind = Literal::Kind::Name;
          lit.s = word;
        }
        break;
      }
      case Tok::String:
        if (negative) fail_expected("a number after '-'");
        lit.kind = Literal::Kind::String;
        lit.s = t.value;
        break;
      case Tok::LBracket:
        if (negative) fail_expected("a number after '-'");
        if (in_list) fail(t, "lists of lists are not supported");
        lit.kind = Literal::Kind::List;
        advance();
        if (peek().kind != Tok::RBracket) {
          while (true) {
            lit.elems.push_back(literal(/*in_list=*/true));
            if (peek().kind == Tok::RBracket) break;
            expect(Tok::Comma, "']' or ',' after list element");
          }
        }
        break;
      default: fail_expected(negative ? "a number after '-'" : "a default value");
    }
    lit.end = advance().end;
    return lit;
  }

  void number(const Token& t, bool negative, Literal& lit) {
    const char* first = src_.data() + t.begin;
    const char* last = src_.data() + t.end;
    if (t.kind == Tok::Int) {
      // Parsed as a magnitude so that the most negative int64 is readable.
      uint64_t magnitude = 0;
      auto [end, ec] = std::from_chars(first, last, magnitude);
      const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + negative;
      if (ec != std::errc() || end != last || magnitude > limit) {
        fail(t, fmt::format("integer {} is out of range", text(t)), "expected a 64-bit integer");
      }
      lit.kind = Literal::Kind::Int;
      lit.i = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      return;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last) {
      fail(t, fmt::format("float {} is out of range", text(t)), "expected a finite double");
    }
    lit.kind = Literal::Kind::Float;
    lit.d = negative ? -value : value;
  }

  // `declared` is the argument's whole type, which the message names even when
  // the mismatch is in a list element or inside an optional.
  [[noreturn]] void mismatch(const Literal& lit, const SchemaType& declared) {
    throw_at(src_, lit.begin,
             fmt::format("default value {} does not match type {}", snippet(lit.begin, lit.end),
                         declared.to_string()));
  }

  // The value `lit` denotes as a `type`; an int is a valid float, None a valid optional.
  IValue convert(const Literal& lit, const SchemaType& type, const SchemaType& declared) {
    using K = Literal::Kind;
    switch (type.kind()) {
      case SchemaType::Kind::Optional:
        if (lit.kind == K::None) return IValue();
        return convert(lit, type.elem(), declared);
      case SchemaType::Kind::Int:
        if (lit.kind == K::Int) return IValue(lit.i);
        break;
      case SchemaType::Kind::Float:
        if (lit.kind == K::Int) return IValue(static_cast<double>(lit.i));
        if (lit.kind == K::Float) return IValue(lit.d);
        break;
      case SchemaType::Kind::Bool:
        if (lit.kind == K::Bool) return IValue(lit.b);
        break;
      case SchemaType::Kind::Str:
        if (lit.kind == K::String) return IValue(lit.s);
        break;
      case SchemaType::Kind::Scalar:
        if (lit.kind == K::Int) return IValue(lit.i);
        if (lit.kind == K::Float) return IValue(lit.d);
        if (lit.kind == K::Bool) return IValue(lit.b);
        break;
      case SchemaType::Kind::ScalarType:
        if (lit.kind != K::Name) break;
        if (std::optional<ScalarType> st = parse_scalar_type(lit.s)) return IValue(*st);
        throw_at(src_, lit.begin, fmt::format("unknown ScalarType '{}'", lit.s),
                 "expected one of bool, uint8, int32, int64, float32, float64, float16, bfloat16");
      case SchemaType::Kind::Device:
        if (lit.kind == K::String) return IValue(device(lit));
        break;
      case SchemaType::Kind::Layout:
        if (lit.kind == K::Name) {
          if (auto l = parse_layout(lit.s)) return IValue(static_cast<int64_t>(*l));
          throw_at(src_, lit.begin, fmt::format("unknown Layout '{}'", lit.s), "expected strided");
        }
        if (lit.kind == K::Int && layout_from_int(lit.i)) return IValue(lit.i);
        break;
      case SchemaType::Kind::MemoryFormat:
        if (lit.kind == K::Name) {
          if (auto m = parse_memory_format(lit.s)) return IValue(static_cast<int64_t>(*m));
          throw_at(src_, lit.begin, fmt::format("unknown MemoryFormat '{}'", lit.s),
                   "expected contiguous_format, preserve_format, channels_last or "
                   "channels_last_3d");
        }
        if (lit.kind == K::Int && memory_format_from_int(lit.i)) return IValue(lit.i);
        break;
      case SchemaType::Kind::Generator: break;
      case SchemaType::Kind::List: return convert_list(lit, type, declared);
      // A Tensor has no literal default; a Tensor? has None, handled above.
      case SchemaType::Kind::Tensor: break;
    }
    mismatch(lit, declared);
  }

  Device device(const Literal& lit) {
    try {
      return Device(lit.s);
    } catch (const ValueError&) {
      throw_at(src_, lit.begin, fmt::format("unknown device {}", snippet(lit.begin, lit.end)),
               "expected \"cpu\", \"meta\", \"privateuse1\", \"cuda\" or \"cuda:<index>\"");
    }
  }

  // `[1, 2]` for int[], float[], bool[]; `[]` for Tensor[]; and, for a fixed
  // size list, one scalar that stands for every element (`int[2] stride=1`).
  IValue convert_list(const Literal& lit, const SchemaType& type, const SchemaType& declared) {
    const SchemaType& elem = type.elem();
    using EK = SchemaType::Kind;
    if (lit.kind != Literal::Kind::List) {
      const bool broadcastable =
          elem.kind() == EK::Int || elem.kind() == EK::Float || elem.kind() == EK::Bool;
      if (!type.fixed_size() || !broadcastable) mismatch(lit, declared);
      Literal repeated;
      repeated.kind = Literal::Kind::List;
      repeated.elems.assign(static_cast<size_t>(*type.fixed_size()), lit);
      repeated.begin = lit.begin;
      repeated.end = lit.end;
      return convert_list(repeated, type, declared);
    }
    if (!type.list_size_fits(lit.elems.size())) {
      throw_at(
          src_, lit.begin,
          fmt::format("default value {} is a list of {}, but {} holds {}",
                      snippet(lit.begin, lit.end), lit.elems.size(), declared.to_string(),
                      *type.fixed_size()),
          fmt::format("write {} values, one value that stands for all, or []", *type.fixed_size()));
    }
    switch (elem.kind()) {
      case EK::Int: {
        std::vector<int64_t> out;
        for (const Literal& e : lit.elems) out.push_back(convert(e, elem, declared).to_int());
        return IValue(std::move(out));
      }
      case EK::Float: {
        std::vector<double> out;
        for (const Literal& e : lit.elems) out.push_back(convert(e, elem, declared).to_double());
        return IValue(std::move(out));
      }
      case EK::Bool: {
        std::vector<bool> out;
        for (const Literal& e : lit.elems) out.push_back(convert(e, elem, declared).to_bool());
        return IValue(std::move(out));
      }
      default:
        // Tensor[] and Tensor?[] are boxed as a Tensor list, and only `[]` is writable.
        if (elem.contains_tensor() && lit.elems.empty()) return IValue(std::vector<Tensor>{});
        mismatch(lit, declared);
    }
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

FunctionSchema parse_schema(std::string_view text) { return Parser(text).schema(); }

OperatorName parse_operator_name(std::string_view text) {
  return Parser(text).operator_name_only();
}

}  // namespace sy
