// The kernel model of unit/capture/cbpf_interp.hpp for GoogleTest tests: an
// instruction the model does not know fails the test.
#pragma once

#include <gtest/gtest.h>

#include "unit/capture/cbpf_interp.hpp"

namespace callwall::test {

/// Runs `prog` on `v`: the value returned (0 when a load falls outside the
/// packet, as in the kernel). What the model does not know fails the test.
inline uint32_t run_cbpf(const std::vector<sock_filter>& prog, const KernelView& v) {
    std::string fault;
    const std::optional<uint32_t> r = try_run_cbpf(prog, v, fault);
    if (!r) ADD_FAILURE() << "classic BPF model: " << fault;
    return r.value_or(0);
}

}  // namespace callwall::test
