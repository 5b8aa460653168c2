// TLS flight assemblers: the first ClientHello / ServerHello flight of a TCP
// stream, from segments in any order (see tls.hpp, FlightAssembler).
#include "proto/tls.hpp"
#include "proto/tls_records.hpp"

#include <algorithm>
#include <cstring>

namespace callwall::proto::tls {
namespace {

// Moves the fragments of a complete multi-record handshake message together, in place, so
// that it starts at kRecordHeaderLength. Only called after walk_records() said Complete, so
// every record header read here was validated.
void squeeze_records(std::span<uint8_t> buf, size_t total) noexcept {
    size_t dst = kRecordHeaderLength;
    size_t pos = 0;
    size_t gathered = 0;
    while (gathered < total) {
        const size_t len = load_u16(ByteView{buf.data(), buf.size()}, pos + 3);
        const size_t take = std::min(len, total - gathered);
        const size_t src = pos + kRecordHeaderLength;
        if (src != dst) std::memmove(buf.data() + dst, buf.data() + src, take);
        dst += take;
        gathered += take;
        pos = src + len;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FlightAssembler

FlightAssembler::FlightAssembler(std::span<uint8_t> buffer, Side side) noexcept : buffer_(buffer), side_(side) {
    if (buffer_.size() > UINT32_MAX) buffer_ = buffer_.first(UINT32_MAX);
    if (buffer_.size() < kRecordHeaderLength + kHandshakeHeaderLength) {
        fail(DecodeErrorCode::Unsupported, 0);
    }
}

void FlightAssembler::anchor_syn(uint32_t syn_seq) noexcept {
    // Several SYN(-ACK)s with different sequence numbers (ndpi__tls_multiple_synack_different_
    // seq): the last one before data wins. Once data is placed the start is fixed.
    if (stats_.segments > 0) return;
    start_seq_ = syn_seq + 1;
    have_start_ = true;
    anchored_ = true;
}

void FlightAssembler::start_second_flight(uint32_t seq) noexcept {
    if (stats_.segments > 0) return;
    start_seq_ = seq;
    have_start_ = true;
    anchored_ = true;
    second_flight_ = true;
}

bool FlightAssembler::next_flight_seq(uint32_t& seq) const noexcept {
    if (status_ != AssemblyStatus::Done || handshake_length_ == 0 || sslv2_ || records_end_ == 0) return false;
    size_t next = records_end_;
    // A ChangeCipherSpec record held right behind the message (a server's
    // HelloRetryRequest flight, RFC 8446 Appendix D.4) is this flight's, not
    // the next one's: the segment that carried it is not seen again.
    constexpr size_t kCcsRecord = kRecordHeaderLength + 1;
    if (contiguous_bytes() >= next + kCcsRecord) {
        const uint8_t* r = buffer_.data() + next;
        if (r[0] == content_type::kChangeCipherSpec && r[1] == 3 && r[3] == 0 && r[4] == 1 && r[5] == 1)
            next += kCcsRecord;
    }
    seq = start_seq_ + static_cast<uint32_t>(next);
    return true;
}

size_t FlightAssembler::contiguous_bytes() const noexcept {
    return (range_count_ > 0 && ranges_[0].begin == 0) ? ranges_[0].end : 0;
}

ByteView FlightAssembler::handshake() const noexcept {
    if (status_ != AssemblyStatus::Done || handshake_length_ == 0) return {};
    return ByteView{buffer_.data() + handshake_offset_, handshake_length_};
}

void FlightAssembler::fail(DecodeErrorCode code, size_t offset) noexcept {
    status_ = AssemblyStatus::Failed;
    error_ = make_error(code, offset);
}

AssemblyStatus FlightAssembler::add_segment(uint32_t seq, ByteView payload) noexcept {
    if (status_ != AssemblyStatus::NeedMore || payload.empty()) return status_;
    ++stats_.segments;
    if (!have_start_) {
        have_start_ = true;
        start_seq_ = seq;
    }
    // RFC 793 §3.3: compare modulo 2^32; the signed difference handles wraparound.
    const int32_t delta = static_cast<int32_t>(seq - start_seq_);
    size_t offset = 0;
    if (delta < 0) {
        const size_t before = static_cast<size_t>(-static_cast<int64_t>(delta));
        if (!anchored_ && rebase(before)) {
            offset = 0;
        } else if (before >= payload.size()) {
            anomalies_ |= bit(Anomaly::BeforeStart);
            stats_.clipped_bytes += static_cast<uint32_t>(payload.size());
            return status_;
        } else {
            anomalies_ |= bit(Anomaly::BeforeStart);
            stats_.clipped_bytes += static_cast<uint32_t>(before);
            payload = payload.subspan(before);
        }
    } else {
        offset = static_cast<size_t>(delta);
    }
    const size_t before_prefix = contiguous_bytes();
    insert(offset, payload);
    if (contiguous_bytes() != before_prefix || (!anchored_ && stats_.segments > 1)) evaluate();
    return status_;
}

// Moves everything held `shift` bytes later: an earlier segment arrived and no SYN fixed the
// start. False when it does not fit (the early bytes are then dropped instead).
bool FlightAssembler::rebase(size_t shift) noexcept {
    const size_t high = range_count_ > 0 ? ranges_[range_count_ - 1].end : 0;
    if (shift > buffer_.size() || high > buffer_.size() - shift) return false;
    for (size_t i = range_count_; i-- > 0;) {
        Range& r = ranges_[i];
        std::memmove(buffer_.data() + r.begin + shift, buffer_.data() + r.begin, r.end - r.begin);
        r.begin += static_cast<uint32_t>(shift);
        r.end += static_cast<uint32_t>(shift);
    }
    start_seq_ -= static_cast<uint32_t>(shift);
    return true;
}

// Copies the bytes of [offset, offset + size) not yet held (first copy wins) and merges the
// range into the sorted, disjoint, non-adjacent range list.
void FlightAssembler::insert(size_t offset, ByteView data) noexcept {
    const size_t cap = buffer_.size();
    if (offset >= cap) {
        anomalies_ |= bit(Anomaly::BeyondBuffer);
        stats_.clipped_bytes += static_cast<uint32_t>(data.size());
        return;
    }
    if (data.size() > cap - offset) {
        anomalies_ |= bit(Anomaly::BeyondBuffer);
        stats_.clipped_bytes += static_cast<uint32_t>(data.size() - (cap - offset));
        data = data.first(cap - offset);
    }
    const auto begin = static_cast<uint32_t>(offset);
    const auto end = static_cast<uint32_t>(offset + data.size());

    // Ranges touching [begin, end] (overlapping or adjacent) merge into one.
    size_t first = 0;
    while (first < range_count_ && ranges_[first].end < begin) ++first;
    size_t last = first;  // one past the last touching range
    while (last < range_count_ && ranges_[last].begin <= end) ++last;
    const size_t new_count = range_count_ - (last - first) + 1;
    if (new_count > kMaxFilledRanges) {
        anomalies_ |= bit(Anomaly::RangeOverflow);
        ++stats_.dropped_segments;
        return;
    }

    // Fill the gaps between held ranges; compare what overlaps.
    uint32_t cur = begin;
    for (size_t i = first; i < last; ++i) {
        const Range& r = ranges_[i];
        if (r.begin > cur) {
            std::memcpy(buffer_.data() + cur, data.data() + (cur - begin), r.begin - cur);
            cur = r.begin;
        }
        const uint32_t overlap_end = std::min(end, r.end);
        if (overlap_end > cur) {
            if (std::memcmp(buffer_.data() + cur, data.data() + (cur - begin), overlap_end - cur) != 0) {
                anomalies_ |= bit(Anomaly::OverlapConflict);
            }
            stats_.retransmitted_bytes += overlap_end - cur;
            cur = overlap_end;
        }
        cur = std::max(cur, std::min(end, r.end));
    }
    if (cur < end) std::memcpy(buffer_.data() + cur, data.data() + (cur - begin), end - cur);

    Range merged{begin, end};
    if (last > first) {
        merged.begin = std::min(begin, ranges_[first].begin);
        merged.end = std::max(end, ranges_[last - 1].end);
    }
    if (last == first) {  // pure insertion at `first`
        for (size_t i = range_count_; i > first; --i) ranges_[i] = ranges_[i - 1];
        ranges_[first] = merged;
        ++range_count_;
        return;
    }
    ranges_[first] = merged;
    const size_t removed = last - first - 1;
    for (size_t i = first + 1; i + removed < range_count_; ++i) ranges_[i] = ranges_[i + removed];
    range_count_ = static_cast<uint8_t>(range_count_ - removed);
}

void FlightAssembler::evaluate() noexcept {
    const size_t held = contiguous_bytes();
    if (side_ == Side::Client && !second_flight_ && looks_like_sslv2_hello(ByteView{buffer_.data(), held})) {
        const size_t total = 2 + ((size_t{buffer_[0] & 0x7Fu} << 8) | buffer_[1]);
        if (total > buffer_.size()) return fail(DecodeErrorCode::Unsupported, held);
        if (held < total) return;
        handshake_offset_ = 2;
        handshake_length_ = static_cast<uint32_t>(total - 2);
        sslv2_ = true;
        const Result<ClientHello> ch = decode_sslv2_client_hello(ByteView{buffer_.data() + 2, total - 2});
        if (ch.ok())
            status_ = AssemblyStatus::Done;
        else
            fail(ch.code(), 2 + ch.error().offset);
        return;
    }
    const Walk w =
        walk_records(ByteView{buffer_.data(), held}, buffer_.size() - kRecordHeaderLength, side_, second_flight_);
    switch (w.status) {
        case WalkStatus::NeedMore:
            if (held == buffer_.size()) fail(DecodeErrorCode::Unsupported, held);
            return;
        case WalkStatus::NotTls:
            // Without the SYN the true start may still arrive (rebase): wait a little, unless
            // the bytes are a TLS record of another type (a connection seen mid-stream).
            if (!anchored_ && !w.other_record && stats_.segments < kUnanchoredPatience) return;
            fail(DecodeErrorCode::NotThisProtocol, w.at);
            return;
        case WalkStatus::Malformed:
        case WalkStatus::TooBig: fail(walk_error(w).code, w.at); return;
        case WalkStatus::Alert:
            alert_seen_ = true;
            alert_level_ = w.alert_level;
            alert_description_ = w.alert_description;
            status_ = AssemblyStatus::Done;
            return;
        case WalkStatus::Complete: break;
    }
    if (!w.single_record) squeeze_records(buffer_.subspan(w.start), w.handshake_total);
    handshake_offset_ = static_cast<uint32_t>(w.start + kRecordHeaderLength);
    records_end_ = static_cast<uint32_t>(w.records_end);
    handshake_length_ = static_cast<uint32_t>(w.handshake_total);
    const ByteView hs{buffer_.data() + handshake_offset_, handshake_length_};
    DecodeError err{};
    bool ok = false;
    if (side_ == Side::Client) {
        const Result<ClientHello> ch = decode_client_hello(hs);
        ok = ch.ok();
        err = ch.error();
    } else {
        const Result<ServerHello> sh = decode_server_hello(hs);
        ok = sh.ok();
        err = sh.error();
    }
    if (ok) {
        status_ = AssemblyStatus::Done;
    } else {
        fail(err.code, handshake_offset_ + err.offset);
    }
}

Result<ClientHello> ClientHelloAssembler::client_hello() const noexcept {
    switch (status()) {
        case AssemblyStatus::Done:
            return sslv2_ ? decode_sslv2_client_hello(handshake()) : decode_client_hello(handshake());
        case AssemblyStatus::Failed: return error();
        case AssemblyStatus::NeedMore: break;
    }
    return make_error(DecodeErrorCode::Truncated, contiguous_bytes());
}

Result<ServerFlight> ServerFlightAssembler::server_flight() const noexcept {
    switch (status()) {
        case AssemblyStatus::Done: break;
        case AssemblyStatus::Failed: return error();
        case AssemblyStatus::NeedMore: return make_error(DecodeErrorCode::Truncated, contiguous_bytes());
    }
    ServerFlight f;
    if (alert_seen_) {
        f.has_alert = true;
        f.alert_level = alert_level_;
        f.alert_description = alert_description_;
        return f;
    }
    Result<ServerHello> sh = decode_server_hello(handshake());
    if (!sh) return sh.error();
    f.has_server_hello = true;
    f.server_hello = *sh;
    return f;
}

}  // namespace callwall::proto::tls
