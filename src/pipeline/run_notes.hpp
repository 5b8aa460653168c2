// The run's notes on its input (run.notes, a line each), in words: what
// the packet path counted and could not make flows of, or made them of
// with a caveat. The counting is the Analyzer's (and its workers'); the
// words are here.
#pragma once

#include <cstdint>
#include <string>

#include "decode/ip_reassembly.hpp"
#include "pipeline/undecoded.hpp"

namespace callwall::pipeline {

/// Appends, in order: the capture clock's jumps back (`clock_back_jumps`,
/// the largest `clock_back_max_us`), the encapsulations whose content was
/// not decoded, the frames given up at a decoder's limit (tunnels nested too
/// deep, too many IPv6 extension headers) and the 802.11 frames skipped,
/// protected or aggregated. Nothing for what did not happen.
void note_input(std::string& notes, uint64_t clock_back_jumps, int64_t clock_back_max_us,
                const UndecodedKinds& undecoded);

/// Appends the IP fragments' line: datagrams reassembled, those that were
/// not and why, fragments without their first.
void note_fragments(std::string& notes, const decode::ReassemblyStats& st);

}  // namespace callwall::pipeline
