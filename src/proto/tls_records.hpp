// Private to the TLS decoder's files (tls.cpp, tls_assembler.cpp): the
// record walk shared by the stateless decoders and the assemblers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "callwall/proto/tls.hpp"

namespace callwall::proto::tls {

enum class WalkStatus : uint8_t { Complete, NeedMore, NotTls, Malformed, TooBig, Alert };

struct Walk {
    WalkStatus status = WalkStatus::NeedMore;
    size_t at = 0;  // where a failure was found / bytes available for NeedMore
    size_t handshake_total = 0;  // header + body, once known
    bool single_record = false;  // Complete: the message lies in the first record's fragment
    bool other_record = false;  // NotTls: a valid record header of another type (mid-stream)
    uint8_t alert_level = 0;
    uint8_t alert_description = 0;
};

// Walks records from the start of a direction's stream (`prefix`: contiguous
// bytes held) until the first handshake message of the side's expected type
// is complete (tls.cpp documents the record layout).
[[nodiscard]] Walk walk_records(ByteView prefix, size_t capacity, Side side) noexcept;

/// The decode error a failed or unfinished walk stands for.
[[nodiscard]] DecodeError walk_error(const Walk& w) noexcept;

}  // namespace callwall::proto::tls
