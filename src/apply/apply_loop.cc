#include "src/apply/apply_loop.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace phony::apply {

namespace {

bool Stopped(const LoopOptions& o) { return o.stop != nullptr && o.stop->load(); }

void Sleep(absl::Duration d, const LoopOptions& o) {
  for (absl::Time until = absl::Now() + d; absl::Now() < until && !Stopped(o);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

absl::Status RunApplyLoop(ApplyStage& stage, ApplySource& source, const LoopOptions& o) {
  absl::Time last_delivery = absl::Now();
  absl::Time last_report = absl::Now();
  absl::Duration backoff = absl::Seconds(1);
  ApplyStats reported;
  std::vector<KafkaOffset> durable;
  auto ack = [&] {
    for (const KafkaOffset& offset : durable) {
      if (absl::Status s = source.Ack(offset); !s.ok()) {
        spdlog::warn("apply: acknowledging {}: {}", offset.ToString(), std::string(s.message()));
      }
    }
    durable.clear();
  };
  while (!Stopped(o)) {
    auto polled = source.Poll(o.poll_timeout);
    if (!polled.ok()) return polled.status();
    absl::Status s;
    if (polled->has_value() || !source.Ready()) {
      last_delivery = absl::Now();
    }
    if (polled->has_value()) {
      s = stage.Add(**polled, &durable);
    } else {
      s = stage.Idle(&durable);
    }
    ack();
    for (const auto& [sp, on] : stage.TakeFlowChanges()) {
      if (absl::Status f = source.Flow(sp, on); !f.ok()) return f;
    }
    if (s.ok() && stage.waiting_at_barrier() && source.AssignedPartitions() >= 0 &&
        static_cast<size_t>(source.AssignedPartitions()) < o.partitions) {
      return absl::FailedPreconditionError(
          "a truncate waits for all " + std::to_string(o.partitions) + " partitions, but this applier reads " +
          std::to_string(source.AssignedPartitions()) + ": with kafka.partitions > 1 run one phony apply per job");
    }
    if (s.ok()) {
      backoff = absl::Seconds(1);
      if (absl::Now() - last_report >= o.report_every) {
        const ApplyStats& st = stage.stats();
        if (st.events != reported.events || st.transactions != reported.transactions) {
          spdlog::info("apply: {} rows in {} source transactions applied ({} staging commits, {} re-deliveries "
                       "skipped, {} rows older than their table's copy skipped, {} dead letters)",
                       st.events, st.transactions, st.commits, st.skipped, st.before_copy, st.dead_letters);
          reported = st;
        }
        last_report = absl::Now();
      }
      if (!polled->has_value() && o.stop_after_idle > absl::ZeroDuration() &&
          absl::Now() - last_delivery >= o.stop_after_idle) {
        break;
      }
      continue;
    }
    if (!absl::IsAborted(s) && !absl::IsUnavailable(s)) return s;
    // Recoverable: back to the progress staging holds.
    spdlog::warn("apply: {}; resuming from the progress staging holds", std::string(s.message()));
    if (absl::IsUnavailable(s)) {
      Sleep(backoff, o);
      backoff = std::min(backoff * 2, o.max_backoff);
    }
    for (int failures = 1; !Stopped(o); ++failures) {
      absl::Status r = stage.Rewind();
      if (r.ok()) break;
      if (!absl::IsUnavailable(r)) return r;
      spdlog::warn("apply: staging unavailable ({}); retry {} in {}", std::string(r.message()), failures,
                   absl::FormatDuration(backoff));
      Sleep(backoff, o);
      backoff = std::min(backoff * 2, o.max_backoff);
    }
    if (Stopped(o)) break;
    if (absl::Status r = source.Rewind([&](const StreamPartition& sp) { return stage.StartOffset(sp); }); !r.ok()) {
      return r;
    }
  }
  absl::Status s = stage.Finish(&durable);
  ack();
  return s;
}

}  // namespace phony::apply
