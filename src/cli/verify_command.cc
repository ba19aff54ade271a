#include "src/cli/verify_command.h"

#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"
#include "src/cli/stage_common.h"
#include "src/snapshot/my_verify.h"
#include "src/snapshot/pg_verify.h"

namespace phony::cli {

int RunVerify(const VerifyFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "verify");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  if (config.source.is_postgres() != config.target.is_postgres()) {
    std::cerr << "phony verify: compares PostgreSQL with PostgreSQL staging and MySQL/MariaDB with MySQL/MariaDB "
                 "staging; between the two families it is not built yet\n";
    return kExitConfig;
  }
  if (config.subset) {
    std::cerr << "phony verify: " << flags.config_path
              << ": the job copies a subset; staging then holds only part of the source by design\n";
    return kExitConfig;
  }
  if (flags.format != "table" && flags.format != "json") {
    std::cerr << "phony verify: --format must be table or json\n";
    return kExitUsage;
  }
  InstallStopSignals();
  snapshot::VerifyOptions o;
  o.config = &config;
  if (loaded->secrets.source_password) o.source_password = loaded->secrets.source_password->value();
  if (loaded->secrets.target_password) o.target_password = loaded->secrets.target_password->value();
  o.secret = loaded->secrets.anonymization_secret.value();
  for (absl::string_view t : absl::StrSplit(flags.tables_csv, ',', absl::SkipWhitespace())) {
    o.only_tables.emplace_back(std::string(absl::StripAsciiWhitespace(t)));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(flags.wait_seconds);
  while (true) {
    auto report = config.source.is_postgres() ? snapshot::VerifyPg(o) : snapshot::VerifyMy(o);
    if (!report.ok()) {
      std::cerr << "phony verify: " << report.status().message() << "\n";
      return ExitCodeFor(report.status());
    }
    const bool again = !report->equal() && std::chrono::steady_clock::now() < deadline && !StopFlag().load();
    if (!again) {
      std::cout << (flags.format == "json" ? snapshot::VerifyReportJson(*report) + "\n"
                                           : snapshot::VerifyReportText(*report));
      return report->equal() ? 0 : 3;
    }
    spdlog::info("verify: staging differs; comparing again in 2 s (--wait)");
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

}  // namespace phony::cli
