# Sourced by the side-by-side benchmark scripts. measure NAME COMMAND... runs
# COMMAND (stdout dropped, stderr to $work/NAME.err), prints wall time, rows/s
# for $rows, peak RSS and CPU seconds, and sets ${NAME//-/_}_secs.
measure() {
  local name="$1"; shift
  local start end rss user sys secs
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err"; exit 1; }
  end=$(date +%s.%N)
  read -r rss user sys <"$work/$name.time"
  secs=$(echo "$end - $start" | bc -l)
  printf '%-16s %8.2f s  %10.0f rows/s  peak RSS %6.1f MB  CPU %6.2f s\n' "$name" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(echo "$user + $sys" | bc -l)"
  eval "${name//-/_}_secs=$secs"
}
