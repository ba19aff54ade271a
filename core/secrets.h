// Secret references and their resolution. Configs never hold secrets, only
// references: `env://NAME` (an environment variable) or `file:///abs/path`
// (the file's content, one trailing newline removed). `vault://` is
// recognized and arrives with issue #11. A Secret never prints its value:
// errors and logs name the reference only. Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace phony {

struct SecretRef {
  enum class Scheme { kEnv, kFile, kVault };
  Scheme scheme = Scheme::kEnv;
  std::string location;  // variable name, absolute path, or vault path
  std::string text;      // the reference as written, safe to print
};

// kInvalidArgument naming the reason for a malformed reference;
// kUnimplemented for a scheme whose support has not landed yet.
absl::StatusOr<SecretRef> ParseSecretRef(std::string_view text);

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Deliberately no DebugString / operator<<.

 private:
  std::string value_;
};

// kNotFound (unset variable, missing file), kPermissionDenied, or
// kFailedPrecondition (empty secret); messages name the reference, never the
// value.
absl::StatusOr<Secret> ResolveSecret(const SecretRef& ref);

}  // namespace phony
