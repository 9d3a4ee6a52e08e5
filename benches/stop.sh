# Sourced by the bench scripts: stop_all PID... asks each process to stop (SIGTERM, a node's
# clean shutdown), waits up to 10 s for each, then kills what is left.
stop_all() {
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null; done
    for pid in "$@"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    return 0
}
