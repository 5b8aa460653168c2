// The sandbox child's answer to its parent (private to src/audit): a
// ReplayOutput as length-prefixed fields over a pipe.
#pragma once
#include <string>
#include <string_view>

#include "audit/replay.hpp"

namespace callwall::audit {

[[nodiscard]] std::string encode_replay(const ReplayOutput& r);
/// False when `in` is not a complete answer (the child died mid-way).
[[nodiscard]] bool decode_replay(std::string_view in, ReplayOutput& r);

}  // namespace callwall::audit
