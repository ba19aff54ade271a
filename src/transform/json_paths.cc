#include "src/transform/json_paths.h"

#include <charconv>

#include "nlohmann/json.hpp"

namespace phony::transform {
namespace {

using Json = nlohmann::ordered_json;

absl::Status Problem(std::string_view path, size_t pos, std::string_view what) {
  return absl::InvalidArgumentError("JSON path \"" + std::string(path) + "\": " + std::string(what) +
                                    " at position " + std::to_string(pos));
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         static_cast<unsigned char>(c) >= 0x80;
}

absl::Status Visit(Json& node, const std::vector<JsonPath::Step>& steps, size_t depth, size_t rule,
                   const JsonValueRewriter& rewrite) {
  if (depth == steps.size()) {
    Value v;
    if (node.is_string()) v = Value::Text(node.get<std::string>());
    else if (node.is_number_unsigned() && node.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      v = Value::UInt64(node.get<uint64_t>());
    else if (node.is_number_integer()) v = Value::Int64(node.get<int64_t>());
    else if (node.is_number_float()) v = Value::Double(node.get<double>());
    else if (node.is_boolean()) v = Value::Bool(node.get<bool>());
    else if (node.is_null()) return absl::OkStatus();
    else v = Value::Json(node.dump());
    if (absl::Status s = rewrite(rule, &v); !s.ok()) return s;
    switch (v.kind()) {
      case ValueKind::kNull: node = nullptr; break;
      case ValueKind::kBool: node = v.bool_value(); break;
      case ValueKind::kInt64: node = v.int64_value(); break;
      case ValueKind::kUInt64: node = v.uint64_value(); break;
      case ValueKind::kDouble: node = v.double_value(); break;
      case ValueKind::kJson: {
        Json parsed = Json::parse(v.str(), nullptr, false);
        if (parsed.is_discarded()) return absl::InternalError("a JSON path rule produced invalid JSON");
        node = std::move(parsed);
        break;
      }
      case ValueKind::kDecimal: {
        Json parsed = Json::parse(v.str(), nullptr, false);
        node = parsed.is_discarded() ? Json(v.str()) : std::move(parsed);
        break;
      }
      default: node = v.str(); break;
    }
    return absl::OkStatus();
  }
  const JsonPath::Step& step = steps[depth];
  switch (step.kind) {
    case JsonPath::Step::kMember:
      if (node.is_object()) {
        auto it = node.find(step.name);
        if (it != node.end()) return Visit(*it, steps, depth + 1, rule, rewrite);
      }
      return absl::OkStatus();
    case JsonPath::Step::kIndex:
      if (node.is_array() && step.index < node.size()) return Visit(node[step.index], steps, depth + 1, rule, rewrite);
      return absl::OkStatus();
    case JsonPath::Step::kWildcard:
      if (node.is_object() || node.is_array()) {
        for (auto& child : node) {
          if (absl::Status s = Visit(child, steps, depth + 1, rule, rewrite); !s.ok()) return s;
        }
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JsonPath> JsonPath::Parse(std::string_view p) {
  JsonPath out;
  if (p.empty() || p[0] != '$') return Problem(p, 0, "a path starts with '$'");
  size_t i = 1;
  while (i < p.size()) {
    if (p[i] == '.') {
      ++i;
      if (i < p.size() && p[i] == '*') {
        out.steps_.push_back({Step::kWildcard, "", 0});
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < p.size() && NameChar(p[i])) ++i;
      if (i == start) return Problem(p, start, "expected a member name");
      out.steps_.push_back({Step::kMember, std::string(p.substr(start, i - start)), 0});
    } else if (p[i] == '[') {
      ++i;
      if (i < p.size() && p[i] == '*') {
        if (i + 1 >= p.size() || p[i + 1] != ']') return Problem(p, i + 1, "expected ']'");
        out.steps_.push_back({Step::kWildcard, "", 0});
        i += 2;
      } else if (i < p.size() && (p[i] == '\'' || p[i] == '"')) {
        const char quote = p[i];
        const size_t close = p.find(quote, i + 1);
        if (close == std::string_view::npos || close + 1 >= p.size() || p[close + 1] != ']') {
          return Problem(p, i, "unterminated quoted name");
        }
        out.steps_.push_back({Step::kMember, std::string(p.substr(i + 1, close - i - 1)), 0});
        i = close + 2;
      } else {
        size_t index = 0;
        const auto [ptr, ec] = std::from_chars(p.data() + i, p.data() + p.size(), index);
        const size_t end = static_cast<size_t>(ptr - p.data());
        if (ec != std::errc() || end >= p.size() || p[end] != ']') return Problem(p, i, "expected an index, '*' or a quoted name");
        out.steps_.push_back({Step::kIndex, "", index});
        i = end + 1;
      }
    } else {
      return Problem(p, i, std::string("unexpected '") + p[i] + "'");
    }
  }
  return out;
}

absl::StatusOr<std::string> RewriteJson(std::string_view document, const std::vector<JsonPath>& paths,
                                        const JsonValueRewriter& rewrite) {
  Json doc = Json::parse(document, nullptr, false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("the column's value is not a JSON document");
  for (size_t r = 0; r < paths.size(); ++r) {
    if (absl::Status s = Visit(doc, paths[r].steps(), 0, r, rewrite); !s.ok()) return s;
  }
  return doc.dump();
}

}  // namespace phony::transform
