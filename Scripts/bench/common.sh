# Shared helpers of the benchmark scripts (source this file).

# peak_rss CMD...: runs CMD (stdout discarded) and prints "seconds peak_rss_kib".
peak_rss() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(f"{time.time() - t:.1f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}
