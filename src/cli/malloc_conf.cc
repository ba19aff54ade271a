// jemalloc's settings for the phony binary, and for the benchmarks that
// measure a stage as phony runs it (bench/CMakeLists.txt links this file
// too). jemalloc reads the symbol at start; MALLOC_CONF in the environment
// still overrides it. Two arenas are enough for a handful of stage threads,
// and dirty pages go back to the system within a second from jemalloc's own
// thread, which keeps phony run's peak RSS where glibc's was.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
