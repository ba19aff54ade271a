#include "src/kafka/kafka_admin.h"

#include <librdkafka/rdkafka.h>

#include "core/status_macros.h"
#include "src/kafka/rdkafka_util.h"

namespace phony::kafka {

absl::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError("kafka property " + key + ": " + err);
  }
  return absl::OkStatus();
}

absl::StatusOr<Conf> MakeConf(const KafkaConfig& kafka,
                              std::initializer_list<std::pair<const char*, std::string>> extra) {
  Conf conf(rd_kafka_conf_new());
  PHONY_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", kafka.brokers));
  // librdkafka logs go through its default logger (stderr) only at warning
  // level and above; they name brokers, never payloads.
  PHONY_RETURN_IF_ERROR(Set(conf.get(), "log_level", "4"));
  for (const auto& [k, v] : kafka.properties) PHONY_RETURN_IF_ERROR(Set(conf.get(), k, v));
  for (const auto& [k, v] : extra) PHONY_RETURN_IF_ERROR(Set(conf.get(), k, v));
  return conf;
}

absl::StatusOr<Handle> NewClient(rd_kafka_type_t type, Conf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(std::string("kafka client: ") + err);
  (void)conf.release();  // owned by the client now
  return Handle(rk);
}

absl::Status KafkaError(rd_kafka_resp_err_t err, const std::string& context) {
  const std::string msg = context + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return absl::UnavailableError(msg);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return absl::FailedPreconditionError(msg);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

namespace {

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

absl::StatusOr<Handle> AdminClient(const KafkaConfig& kafka, absl::Duration timeout) {
  PHONY_ASSIGN_OR_RETURN(
      Conf conf, MakeConf(kafka, {{"socket.timeout.ms", std::to_string(absl::ToInt64Milliseconds(timeout))}}));
  return NewClient(RD_KAFKA_PRODUCER, std::move(conf));
}

}  // namespace

absl::StatusOr<std::map<std::string, int>> DescribeTopics(const KafkaConfig& kafka,
                                                           const std::vector<std::string>& names,
                                                           absl::Duration timeout) {
  PHONY_ASSIGN_OR_RETURN(Handle rk, AdminClient(kafka, timeout));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk.get(), 1, nullptr, &md, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(err, "kafka: no metadata from " + kafka.brokers);
  }
  std::map<std::string, int> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    for (const auto& n : names) {
      if (n == t.topic) out[n] = t.partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

absl::Status EnsureTopics(const KafkaConfig& kafka, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout) {
  std::vector<std::string> names;
  for (const auto& t : topics) names.push_back(t.name);
  PHONY_ASSIGN_OR_RETURN(auto existing, DescribeTopics(kafka, names, timeout));
  std::vector<const TopicSpec*> missing;
  for (const auto& t : topics) {
    auto it = existing.find(t.name);
    if (it == existing.end()) {
      missing.push_back(&t);
    } else if (it->second < t.partitions) {
      return absl::FailedPreconditionError("kafka topic " + t.name + " has " + std::to_string(it->second) +
                                           " partitions; the job needs " + std::to_string(t.partitions) +
                                           " (add partitions or change kafka.partitions)");
    }
  }
  if (missing.empty()) return absl::OkStatus();
  if (!kafka.create_topics) {
    std::string list;
    for (const auto* t : missing) list += (list.empty() ? "" : ", ") + t->name;
    return absl::FailedPreconditionError("kafka topics missing: " + list +
                                         " (kafka.create_topics is false: create them, or let phony)");
  }
  PHONY_ASSIGN_OR_RETURN(Handle rk, AdminClient(kafka, timeout));
  std::vector<rd_kafka_NewTopic_t*> specs;
  char err[512];
  for (const auto* t : missing) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t->name.c_str(), t->partitions, t->replication_factor, err, sizeof(err));
    if (nt == nullptr) {
      for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
      return absl::InvalidArgumentError("kafka topic " + t->name + ": " + err);
    }
    for (const auto& [k, v] : t->configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    specs.push_back(nt);
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> q(rd_kafka_queue_new(rk.get()));
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)), err,
                                              sizeof(err));
  rd_kafka_CreateTopics(rk.get(), specs.data(), specs.size(), opts, q.get());
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
  std::unique_ptr<rd_kafka_event_t, EventDeleter> ev(
      rd_kafka_queue_poll(q.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 5000));
  if (!ev) return absl::UnavailableError("kafka: no answer to CreateTopics from " + kafka.brokers);
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(ev.get()),
                      std::string("kafka: creating topics: ") + rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    const std::string what = std::string("kafka: creating topic ") + rd_kafka_topic_result_name(results[i]) +
                             (why ? std::string(" (") + why + ")" : "");
    // KRaft refuses the replication factor while its brokers are fenced (a
    // broker that restarts): that passes.
    if (e == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR && why != nullptr &&
        std::string_view(why).find("fenced") != std::string_view::npos) {
      return absl::UnavailableError(what + ": " + rd_kafka_err2str(e));
    }
    absl::Status s = KafkaError(e, what);
    // A refusal is not something a retry fixes.
    if (absl::IsInternal(s)) return absl::FailedPreconditionError(s.message());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> DeleteTopics(const KafkaConfig& kafka, const std::vector<std::string>& names,
                                                      absl::Duration timeout) {
  PHONY_ASSIGN_OR_RETURN(auto existing, DescribeTopics(kafka, names, timeout));
  std::vector<std::string> out;
  if (existing.empty()) return out;
  PHONY_ASSIGN_OR_RETURN(Handle rk, AdminClient(kafka, timeout));
  std::vector<rd_kafka_DeleteTopic_t*> del;
  for (const auto& [name, partitions] : existing) del.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> q(rd_kafka_queue_new(rk.get()));
  char err[512];
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)), err,
                                              sizeof(err));
  rd_kafka_DeleteTopics(rk.get(), del.data(), del.size(), opts, q.get());
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* d : del) rd_kafka_DeleteTopic_destroy(d);
  std::unique_ptr<rd_kafka_event_t, EventDeleter> ev(
      rd_kafka_queue_poll(q.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 5000));
  if (!ev) return absl::UnavailableError("kafka: no answer to DeleteTopics from " + kafka.brokers);
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(ev.get()),
                      std::string("kafka: deleting topics: ") + rd_kafka_event_error_string(ev.get()));
  }
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back(rd_kafka_topic_result_name(results[i]));
    } else if (e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      return absl::FailedPreconditionError(std::string("kafka: deleting topic ") + rd_kafka_topic_result_name(results[i]) +
                                           ": " + (why ? why : rd_kafka_err2str(e)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DeleteGroups(const KafkaConfig& kafka, const std::vector<std::string>& groups,
                                                      std::vector<std::string>* busy, absl::Duration timeout) {
  std::vector<std::string> out;
  if (groups.empty()) return out;
  PHONY_ASSIGN_OR_RETURN(Handle rk, AdminClient(kafka, timeout));
  std::vector<rd_kafka_DeleteGroup_t*> del;
  for (const auto& g : groups) del.push_back(rd_kafka_DeleteGroup_new(g.c_str()));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> q(rd_kafka_queue_new(rk.get()));
  char err[512];
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  rd_kafka_AdminOptions_set_request_timeout(opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)), err,
                                            sizeof(err));
  rd_kafka_DeleteGroups(rk.get(), del.data(), del.size(), opts, q.get());
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* d : del) rd_kafka_DeleteGroup_destroy(d);
  std::unique_ptr<rd_kafka_event_t, EventDeleter> ev(
      rd_kafka_queue_poll(q.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 5000));
  if (!ev) return absl::UnavailableError("kafka: no answer to DeleteGroups from " + kafka.brokers);
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(rd_kafka_event_error(ev.get()),
                      std::string("kafka: deleting consumer groups: ") + rd_kafka_event_error_string(ev.get()));
  }
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_error_t* e = rd_kafka_group_result_error(results[i]);
    if (e == nullptr) {
      out.push_back(rd_kafka_group_result_name(results[i]));
    } else if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP) {
      busy->push_back(rd_kafka_group_result_name(results[i]));
    } else if (rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
      return absl::FailedPreconditionError(std::string("kafka: deleting consumer group ") +
                                           rd_kafka_group_result_name(results[i]) + ": " + rd_kafka_error_string(e));
    }
  }
  return out;
}

}  // namespace phony::kafka
