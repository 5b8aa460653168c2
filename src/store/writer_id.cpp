// Who writes a run: the process id, its start time and the boot, and
// whether that writer still runs. See store/store.hpp (current_writer).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "store/store.hpp"

namespace callwall::store {

namespace {
// Field 22 (starttime) of /proc/PID/stat and whether the process is a
// zombie (ended, not yet reaped); nullopt when there is no such process.
struct ProcStat {
    int64_t start_ticks = 0;
    bool zombie = false;
};
std::optional<ProcStat> read_proc_stat(int64_t pid) {
    std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
    if (!f) return std::nullopt;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name (field 2) may hold spaces and parentheses: fields
    // are counted from the last ')'. Field 3 is the state, 22 the start time.
    const char* p = std::strrchr(buf, ')');
    if (!p) return std::nullopt;
    ProcStat ps;
    int field = 2;
    for (const char* tok = p + 1; *tok;) {
        while (*tok == ' ') ++tok;
        if (!*tok) break;
        ++field;
        if (field == 3) ps.zombie = *tok == 'Z' || *tok == 'X';
        if (field == 22) {
            ps.start_ticks = std::strtoll(tok, nullptr, 10);
            return ps;
        }
        while (*tok && *tok != ' ') ++tok;
    }
    return std::nullopt;
}

std::string read_boot_id() {
    std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f) return "";
    char buf[64] = {};
    const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    std::string id = ok ? buf : "";
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    return id;
}
}  // namespace

WriterId current_writer() {
    WriterId w;
    w.pid = ::getpid();
    if (const auto ps = read_proc_stat(w.pid)) w.start_ticks = ps->start_ticks;
    w.boot_id = read_boot_id();
    return w;
}

WriterState writer_state(const WriterId& w) {
    if (w.pid <= 0 || w.start_ticks <= 0) return WriterState::Unknown;
    const std::string boot = read_boot_id();
    if (!w.boot_id.empty() && !boot.empty() && w.boot_id != boot) return WriterState::OtherBoot;
    const auto ps = read_proc_stat(w.pid);
    return ps && !ps->zombie && ps->start_ticks == w.start_ticks ? WriterState::Alive : WriterState::Gone;
}

}  // namespace callwall::store
