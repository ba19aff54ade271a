#include "core/secrets.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace phony {

absl::StatusOr<SecretRef> ParseSecretRef(std::string_view text) {
  SecretRef ref;
  ref.text = std::string(text);
  auto starts = [&](std::string_view p) { return text.substr(0, p.size()) == p; };
  if (starts("env://")) {
    ref.scheme = SecretRef::Scheme::kEnv;
    ref.location = std::string(text.substr(6));
    if (ref.location.empty()) {
      return absl::InvalidArgumentError("'" + ref.text + "' names no environment variable");
    }
    for (char c : ref.location) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        return absl::InvalidArgumentError("'" + ref.text +
                                          "': an environment variable name has only "
                                          "letters, digits and '_'");
      }
    }
    return ref;
  }
  if (starts("file://")) {
    ref.scheme = SecretRef::Scheme::kFile;
    ref.location = std::string(text.substr(7));
    if (ref.location.empty() || ref.location[0] != '/') {
      return absl::InvalidArgumentError("'" + ref.text +
                                        "': a file reference needs an absolute path "
                                        "(file:///path/to/secret)");
    }
    return ref;
  }
  if (starts("vault://")) {
    ref.scheme = SecretRef::Scheme::kVault;
    ref.location = std::string(text.substr(8));
    return absl::UnimplementedError("'" + ref.text +
                                    "': vault:// references arrive with issue #11; use env:// "
                                    "or file:// for now");
  }
  return absl::InvalidArgumentError(
      "'" + ref.text + "' is not a secret reference: expected env://NAME or file:///path");
}

absl::StatusOr<Secret> ResolveSecret(const SecretRef& ref) {
  switch (ref.scheme) {
    case SecretRef::Scheme::kEnv: {
      const char* v = std::getenv(ref.location.c_str());
      if (v == nullptr) {
        return absl::NotFoundError("secret " + ref.text + ": environment variable " +
                                   ref.location + " is not set");
      }
      if (*v == '\0') {
        return absl::FailedPreconditionError("secret " + ref.text + ": environment variable " +
                                             ref.location + " is empty");
      }
      return Secret(v);
    }
    case SecretRef::Scheme::kFile: {
      std::ifstream in(ref.location, std::ios::binary);
      if (!in) {
        const int err = errno;
        if (err == EACCES) {
          return absl::PermissionDeniedError("secret " + ref.text + ": cannot read the file");
        }
        return absl::NotFoundError("secret " + ref.text + ": cannot open the file (" +
                                   std::strerror(err) + ")");
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string value = ss.str();
      if (!value.empty() && value.back() == '\n') value.pop_back();
      if (!value.empty() && value.back() == '\r') value.pop_back();
      if (value.empty()) {
        return absl::FailedPreconditionError("secret " + ref.text + ": the file is empty");
      }
      return Secret(std::move(value));
    }
    case SecretRef::Scheme::kVault:
      return absl::UnimplementedError("secret " + ref.text +
                                      ": vault:// references arrive with issue #11");
  }
  return absl::InternalError("unknown secret scheme");
}

}  // namespace phony
