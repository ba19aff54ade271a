#include "src/cli/ops_command.h"

#include <filesystem>
#include <iostream>
#include <regex>
#include <vector>

#include "core/state_store.h"
#include "nlohmann/json.hpp"
#include "src/capture/postgres/replication_client.h"
#include "src/cli/stage_common.h"
#include "src/kafka/kafka_admin.h"
#include "src/kafka/kafka_topics.h"
#include "src/snapshot/my_snapshot.h"
#include "src/snapshot/pg_job.h"

namespace phony::cli {
namespace {

std::string Bytes(int64_t n) {
  char buf[32];
  if (n >= (1 << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f MB", n / 1048576.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f kB", n / 1024.0);
  }
  return buf;
}

// The job's stage directories under state.dir ("capture-0", …): only what
// phony itself creates there.
std::vector<std::filesystem::path> StageDirs(const JobConfig& config) {
  static const std::regex kStage("^(capture|transform|apply|snapshot|verify)-[0-9]+$");
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config.state_dir, ec)) {
    if (e.is_directory() && std::regex_match(e.path().filename().string(), kStage)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Whether a process holds a stage directory (StateStore's lock).
std::string Holder(const JobConfig& config, const std::filesystem::path& dir) {
  const std::string name = dir.filename().string();
  const std::string stage = name.substr(0, name.find('-'));
  auto opened = StateStore::Open(dir.string(), {.job_name = config.name, .stage = stage});
  if (opened.ok()) return "";
  return std::string(opened.status().message());
}

}  // namespace

int RunStatus(const StatusFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "status");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  const std::string source_password =
      PasswordOf(loaded->secrets.source_password);
  const std::string target_password =
      PasswordOf(loaded->secrets.target_password);
  const std::string slot = pg::DefaultSlotName(config.name);
  const std::string publication = pg::DefaultPublicationName(config.name);
  int code = 0;
  nlohmann::json j;
  j["job"] = config.name;
  j["mode"] = config.kafka ? "kafka" : "embedded";
  std::string text = "job " + config.name + " (" + (config.kafka ? "kafka at " + config.kafka->brokers : "embedded") + ")\n";

  text += "source  " + std::string(DatabaseTypeName(config.source.type)) + " " + config.source.host + ":" +
          std::to_string(config.source.port) + "/" + config.source.database + "\n";
  if (config.source.is_postgres()) {
    auto s = snapshot::ReadSlotStats(config, source_password, slot, publication);
    if (!s.ok()) {
      text += "  unreadable: " + std::string(s.status().message()) + "\n";
      j["source"]["error"] = std::string(s.status().message());
      code = kExitServer;
    } else {
      j["source"] = {{"slot", slot}, {"slot_exists", s->exists}, {"publication", publication},
                     {"publication_tables", s->publication_tables}};
      if (s->exists) {
        j["source"].update({{"active", s->active}, {"active_pid", s->active_pid}, {"confirmed_lsn", s->confirmed},
                            {"retained_wal_bytes", s->retained_bytes}, {"unconfirmed_wal_bytes", s->lag_bytes},
                            {"wal_status", s->wal_status}});
        text += "  slot " + slot + ": " +
                (s->active ? "streaming (process " + std::to_string(s->active_pid) + ")" : std::string("idle")) +
                ", confirmed " + s->confirmed + ", holds " + Bytes(s->retained_bytes) + " of WAL, " +
                Bytes(s->lag_bytes) + " not yet confirmed" + (config.kafka ? "" : " (applied)") + ", wal_status " +
                s->wal_status + "\n";
      } else {
        text += "  slot " + slot + ": none (phony run creates it with the snapshot)\n";
      }
      text += "  publication " + publication + ": " +
              (s->publication_tables < 0 ? std::string("none") : std::to_string(s->publication_tables) + " tables") +
              "\n";
    }
  }

  if (!config.source.is_postgres()) {
    auto s = snapshot::ReadMySourceStats(config, source_password);
    if (!s.ok()) {
      text += "  unreadable: " + std::string(s.status().message()) + "\n";
      j["source"]["error"] = std::string(s.status().message());
      code = kExitServer;
    } else {
      j["source"] = {{"binlog_end", s->position}, {"gtids", s->gtids}, {"binlog_dumps", s->dump_connections}};
      text += "  binlog at " + s->position + (s->gtids.empty() ? "" : " (GTIDs " + s->gtids + ")") + ", " +
              std::to_string(s->dump_connections) + " binlog dump connection(s) as " + config.source.user + "\n";
    }
  }

  text += "staging " + std::string(DatabaseTypeName(config.target.type)) + " " + config.target.host + ":" +
          std::to_string(config.target.port) + "/" + config.target.database + "\n";
  {
    auto s = config.target.is_postgres() ? snapshot::ReadStagingStats(config, target_password)
                                         : snapshot::ReadMyStagingStats(config, target_password);
    if (!s.ok()) {
      text += "  unreadable: " + std::string(s.status().message()) + "\n";
      j["staging"]["error"] = std::string(s.status().message());
      code = kExitServer;
    } else {
      j["staging"] = {{"last_snapshot", s->last_snapshot}, {"dead_letters", s->dead_letters},
                      {"deferred_statements", s->deferred_pending}, {"progress", nlohmann::json::array()}};
      text += "  snapshot: " + (s->last_snapshot.empty() ? std::string("none") : s->last_snapshot) + "\n";
      for (const auto& p : s->progress) {
        j["staging"]["progress"].push_back({{"stream", p.stream}, {"partition", p.partition},
                                            {"next_offset", p.next_offset}, {"position", p.position},
                                            {"seconds_since_commit", p.seconds_since}});
        char ago[32];
        std::snprintf(ago, sizeof(ago), "%.1f s", p.seconds_since);
        text += "  applier: " + p.stream + "[" + std::to_string(p.partition) + "] at " + p.position + ", last commit " +
                ago + " ago\n";
      }
      text += "  deferred unique indexes and constraints: " + std::to_string(s->deferred_pending) +
              ", dead letters: " + std::to_string(s->dead_letters) + "\n";
    }
  }

  text += "state   " + config.state_dir + "\n";
  j["state"]["dir"] = config.state_dir;
  j["state"]["stages"] = nlohmann::json::array();
  for (const auto& dir : StageDirs(config)) {
    const std::string holder = Holder(config, dir);
    j["state"]["stages"].push_back({{"dir", dir.filename().string()}, {"in_use", !holder.empty()}});
    text += "  " + dir.filename().string() + (holder.empty() ? ": idle" : ": in use (" + holder + ")") + "\n";
  }
  if (config.kafka) {
    const kafka::TopicNames topics = kafka::TopicsFor(*config.kafka, config.name);
    j["kafka"] = {{"raw", topics.raw}, {"anonymized", topics.anonymized}, {"schemas", topics.schemas}};
    text += "kafka   " + topics.raw + " → " + topics.anonymized + " (groups phony-transform-" + config.name +
            ", phony-apply-" + config.name + ")\n";
  }
  std::cout << (flags.format == "json" ? j.dump(2) + "\n" : text);
  return code;
}

int RunTeardown(const TeardownFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "teardown");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  const std::string source_password =
      PasswordOf(loaded->secrets.source_password);
  const std::string slot = pg::DefaultSlotName(config.name);
  const std::string publication = pg::DefaultPublicationName(config.name);
  std::vector<std::string> topics_to_drop, groups_to_drop;
  if (config.kafka) {
    const kafka::TopicNames t = kafka::TopicsFor(*config.kafka, config.name);
    topics_to_drop = {t.raw, t.anonymized, t.schemas, t.positions};
    groups_to_drop = {"phony-transform-" + config.name, "phony-apply-" + config.name};
  }
  const auto dirs = StageDirs(config);

  if (!flags.yes) {
    std::cout << "phony teardown would drop, for job " << config.name << ":\n";
    if (config.source.is_postgres()) {
      std::cout << "  at the source: replication slot " << slot << ", publication " << publication << "\n";
    }
    for (const auto& d : dirs) std::cout << "  state directory " << d.string() << "\n";
    for (const auto& t : topics_to_drop) std::cout << "  kafka topic " << t << " (if it exists)\n";
    for (const auto& g : groups_to_drop) std::cout << "  kafka consumer group " << g << " (if it exists)\n";
    std::cout << "Staging is left as it is (its data, and phony's bookkeeping in the phony schema).\n"
                 "Run again with --yes to drop them.\n";
    return 0;
  }
  int code = 0;
  std::vector<std::string> dropped;
  if (config.source.is_postgres()) {
    auto d = snapshot::DropSlotAndPublication(config, source_password, slot, publication, flags.force);
    if (!d.ok()) {
      std::cerr << "phony teardown: " << d.status().message() << "\n";
      return ExitCodeFor(d.status());
    }
    dropped.insert(dropped.end(), d->begin(), d->end());
  }
  for (const auto& dir : dirs) {
    const std::string holder = Holder(config, dir);
    if (!holder.empty()) {
      std::cerr << "phony teardown: " << dir.string() << " is in use (" << holder << "): left in place\n";
      code = kExitServer;
      continue;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) {
      std::cerr << "phony teardown: removing " << dir.string() << ": " << ec.message() << "\n";
      code = kExitServer;
    } else {
      dropped.push_back("state directory " + dir.string());
    }
  }
  if (config.kafka) {
    auto t = kafka::DeleteTopics(*config.kafka, topics_to_drop);
    std::vector<std::string> busy;
    auto g = kafka::DeleteGroups(*config.kafka, groups_to_drop, &busy);
    for (const auto& name : busy) {
      std::cout << "kafka consumer group " << name
                << " still has members (a stopped process's static membership lasts until its session times out): "
                   "left; run phony teardown --yes again in a minute to drop it\n";
    }
    if (t.ok()) {
      for (const auto& name : *t) dropped.push_back("kafka topic " + name);
    } else {
      std::cerr << "phony teardown: " << t.status().message() << "\n";
      code = kExitServer;
    }
    if (g.ok()) {
      for (const auto& name : *g) dropped.push_back("kafka consumer group " + name);
    } else {
      std::cerr << "phony teardown: " << g.status().message() << "\n";
      code = kExitServer;
    }
  }
  std::cout << "phony teardown: job " << config.name << (dropped.empty() ? ": nothing to drop" : ", dropped:") << "\n";
  for (const auto& d : dropped) std::cout << "  " << d << "\n";
  std::cout << "Staging is left as it is.\n";
  return code;
}

}  // namespace phony::cli
