// librdkafka helpers shared by this module's .cc files. Never included from
// a public header: librdkafka stays out of other translation units.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/config.h"

namespace phony::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// bootstrap.servers, the job's pass-through properties, then `extra`.
// kInvalidArgument naming the property librdkafka refused.
absl::StatusOr<Conf> MakeConf(const KafkaConfig& kafka,
                              std::initializer_list<std::pair<const char*, std::string>> extra);
absl::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// Creates the client (takes `conf` on success).
absl::StatusOr<Handle> NewClient(rd_kafka_type_t type, Conf conf);

// Maps a librdkafka error to a status: transport and timeout errors are
// kUnavailable (retry with backoff), the rest kFailedPrecondition /
// kInvalidArgument / kInternal as fits.
absl::Status KafkaError(rd_kafka_resp_err_t err, const std::string& context);

}  // namespace phony::kafka
