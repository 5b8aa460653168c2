// Starting a helper process (server, capture, dnsmasq) for the namespace
// tests: posix_spawn, never a shell of ours, stdout and stderr appended to a
// log. The tests stop every process they start by its PID.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace callwall::test {

/// The PID of the started process, or -1.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& log = "/dev/null") {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = -1;
    if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/// Waits for `pid` up to `limit`, polling every 20 ms; kills it (SIGKILL)
/// past that. The exit code, or -1 (killed, or ended by a signal).
inline int wait_for(pid_t pid, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/// Runs `args` to its end (at most `limit`, then killed): its exit code or -1.
inline int run(const std::vector<std::string>& args, std::chrono::milliseconds limit = std::chrono::seconds(10),
               const std::string& log = "/dev/null") {
    const pid_t pid = spawn(args, log);
    return pid < 0 ? -1 : wait_for(pid, limit);
}

}  // namespace callwall::test
