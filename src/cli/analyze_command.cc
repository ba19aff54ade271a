#include "src/cli/analyze_command.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "src/analyze/analyze_source.h"
#include "src/analyze/report.h"
#include "src/cli/stage_common.h"

namespace phony::cli {

int RunAnalyze(const AnalyzeFlags& flags) {
  auto loaded = LoadJob(flags.config_path, "analyze");
  if (!loaded) return kExitConfig;
  const JobConfig& config = loaded->config;
  analyze::AnalyzeOptions options;
  options.sample_rows = static_cast<size_t>(flags.sample_rows > 0 ? flags.sample_rows : config.analyze.sample_rows);
  options.threshold = config.analyze.threshold;
  auto source = analyze::OpenAnalyzeSource(config, PasswordOf(loaded->secrets.source_password));
  if (!source.ok()) {
    std::cerr << "phony analyze: " << source.status().message() << "\n";
    return ExitCodeFor(source.status());
  }
  auto report = analyze::Analyze(**source, options);
  if (!report.ok()) {
    std::cerr << "phony analyze: " << report.status().message() << "\n";
    return ExitCodeFor(report.status());
  }
  spdlog::info("analyze: {} tables, {} columns, {} flagged, {} foreign keys in {:.2f} s", report->tables,
               report->columns.size(), report->flagged.size(), report->fks.size(), report->seconds);
  if (flags.format == "json") {
    std::cout << analyze::ReportToJson(*report).dump(2) << "\n";
  } else {
    std::cout << analyze::ReportTable(*report);
  }
  if (flags.save) {
    if (auto s = analyze::SaveReport(config, *report); !s.ok()) {
      std::cerr << "phony analyze: --save: " << s.message() << "\n";
      return kExitServer;
    }
    std::cerr << "report saved to " << analyze::ReportPath(config) << "\n";
  }
  if (!flags.emit_config.empty()) {
    std::ifstream in(flags.config_path);
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json base = nlohmann::json::parse(text.str(), nullptr, false);
    const nlohmann::json starter = analyze::StarterConfig(*report, base.is_discarded() ? nlohmann::json::object() : base);
    std::ofstream out(flags.emit_config, std::ios::trunc);
    out << starter.dump(2) << "\n";
    if (!out.flush()) {
      std::cerr << "phony analyze: --emit-config: cannot write " << flags.emit_config << "\n";
      return kExitUsage;
    }
    std::cerr << "starter config written to " << flags.emit_config
              << ": review every rule (flagged columns got one, the rest KEEP) before using it\n";
  }
  return 0;
}

}  // namespace phony::cli
