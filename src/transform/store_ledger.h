// The mapping store as the transformer's ledger: operator overrides and the
// unique-domain collision ledger (keyed hashes only). What a stage that
// anonymizes (transform, snapshot) hands its transformers. Thread-safe as
// the store is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/transform/mapping_store.h"
#include "src/transform/transformer.h"

namespace phony::transform {

class StoreLedger : public MappingLedger {
 public:
  explicit StoreLedger(MappingStore* store) : store_(store) {}
  bool HasOverrides(std::string_view) const override { return store_->override_count() > 0; }
  absl::StatusOr<std::optional<std::string>> Override(std::string_view domain, std::string_view original) override {
    return store_->Override(domain, original);
  }
  absl::Status Record(std::string_view domain, std::string_view original, std::string_view fake) override {
    return store_->RecordInLedger(domain, original, fake);
  }

 private:
  MappingStore* store_;
};

}  // namespace phony::transform
