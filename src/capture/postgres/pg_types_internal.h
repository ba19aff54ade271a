// Shared between pg_values.cc and pg_types.cc; not part of the module's API.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/value.h"

namespace phony::pg {

class PgTypeCache;

// The binary reader for money, the geometric types and the catalog-resolved
// kinds (enum, domain, array, range, multirange, composite).
absl::StatusOr<Value> ParseContainerBinary(uint32_t oid, std::string_view bytes, PgTypeCache* types);

}  // namespace phony::pg
