// Shared by the analyze and capture commands: signals, progress, summaries.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "callwall/pipeline/analyzer.hpp"
#include "callwall/store/store.hpp"

namespace callwall::cli {

/// Set by SIGINT/SIGTERM; the packet loops poll it.
extern volatile std::sig_atomic_t g_stop_signal;
void install_stop_handlers();

/// Seconds since the epoch, wall clock.
double wall_now();
/// Monotonic seconds.
double mono_now();

std::string join_command_line(int argc, char** argv);

/// Prints the end-of-run summary (packets, flows by state, time, packets/s).
void print_summary(std::FILE* out, const pipeline::Analyzer& a, double elapsed_s);

/// Maps exceptions thrown at start-up or by the store to one line and an exit code.
int report_store_error(const store::StoreError& e);

}  // namespace callwall::cli
