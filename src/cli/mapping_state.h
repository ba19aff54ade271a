// The transform stage's state directory and the mapping store over it:
// what `phony transform` and the embedded pipeline of `phony run` open.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "core/secrets.h"
#include "core/state_store.h"
#include "src/transform/keyed.h"
#include "src/transform/mapping_store.h"

namespace phony::cli {

struct MappingState {
  std::unique_ptr<StateStore> state;
  std::unique_ptr<transform::MappingStore> store;
};

inline absl::StatusOr<MappingState> OpenMappings(const JobConfig& config, const Secret& secret, int instance) {
  MappingState m;
  auto state = StateStore::Open(StageStateDir(config.state_dir, "transform", instance),
                                {.job_name = config.name, .stage = "transform"});
  if (!state.ok()) return state.status();
  m.state = *std::move(state);
  auto index_key = transform::DeriveKey(secret.value(), "mapping-index:v1");
  if (!index_key.ok()) return index_key.status();
  auto store = transform::MappingStore::Open(m.state.get(), *index_key);
  if (!store.ok()) return store.status();
  m.store = *std::move(store);
  return m;
}

}  // namespace phony::cli
