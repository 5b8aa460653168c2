// Private to the TLS decoder's files (tls.cpp, tls_assembler.cpp): the
// record walk shared by the stateless decoders and the assemblers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/tls.hpp"

namespace callwall::proto::tls {

enum class WalkStatus : uint8_t { Complete, NeedMore, NotTls, Malformed, TooBig, Alert };

struct Walk {
    WalkStatus status = WalkStatus::NeedMore;
    size_t at = 0;  // where a failure was found / bytes available for NeedMore
    size_t handshake_total = 0;  // header + body, once known
    bool single_record = false;  // Complete: the message lies in the first record's fragment
    bool other_record = false;  // NotTls: a valid record header of another type (mid-stream)
    size_t start = 0;  // where the handshake's first record starts (after a leading ChangeCipherSpec)
    size_t records_end = 0;  // Complete: where the record holding the message's last byte ends
    uint8_t alert_level = 0;
    uint8_t alert_description = 0;
};

// Walks records from the start of a direction's stream (`prefix`: contiguous
// bytes held) until the first handshake message of the side's expected type
// is complete (tls.cpp documents the record layout). `ccs_may_lead`: the
// stream is a second flight (after a HelloRetryRequest), which may open with
// a ChangeCipherSpec record (RFC 8446 Appendix D.4), skipped.
[[nodiscard]] Walk walk_records(ByteView prefix, size_t capacity, Side side, bool ccs_may_lead = false) noexcept;

/// The decode error a failed or unfinished walk stands for.
[[nodiscard]] DecodeError walk_error(const Walk& w) noexcept;

}  // namespace callwall::proto::tls
