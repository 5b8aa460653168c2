// What attribution takes of a run's rows from memory instead of reading
// them back, noted as the rows are handed to the store (store::RowTap, on
// the thread that hands them): the run's DNS questions counted per name (a
// run attributed once, at its end; up to a bound of names) and the capture
// interfaces of the flows written. One per session, started again for each
// run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "store/dns_names.hpp"
#include "store/row_tap.hpp"

namespace callwall::attrib {

class KeptRows final : public store::RowTap {
public:
    /// 16,384 names: at most ~5 MB with their text (a name is up to 255 bytes).
    static constexpr size_t kMaxDnsNames = size_t{1} << 14;

    KeptRows();
    ~KeptRows() override;
    KeptRows(const KeptRows&) = delete;
    KeptRows& operator=(const KeptRows&) = delete;

    /// Counts run `run_id`'s DNS questions per name from now on, up to
    /// `max_names` names: past that (or when questions arrive encoded) the
    /// counts are dropped and attribution reads dns_name.
    void keep_dns_names(int64_t run_id, size_t max_names = kMaxDnsNames);
    /// Whether run `run_id`'s questions are counted here, all of them.
    [[nodiscard]] bool dns_names_kept(int64_t run_id) const noexcept { return names_ && names_run_ == run_id; }
    /// Each name counted (any order), as dns_name holds it once every
    /// question is committed; nothing unless dns_names_kept.
    void for_each_dns_name(int64_t run_id, const std::function<void(const store::DnsNameCount&)>& fn) const;
    /// The capture interfaces of run `run_id`'s flows (facts::FlowRecord::
    /// interfaces, ORed; 0 read as the first) when every flow row of the
    /// store came through flow_row; nullopt otherwise (another run's, or
    /// rows that arrived encoded). Read from any thread (a live run's
    /// refresh, on the store's thread, while the decoding thread writes).
    [[nodiscard]] std::optional<uint32_t> interfaces_written(int64_t run_id) const noexcept {
        if (!interfaces_known_.load(std::memory_order_acquire) ||
            interfaces_run_.load(std::memory_order_acquire) != run_id)
            return std::nullopt;
        return interfaces_.load(std::memory_order_acquire);
    }

    void flow_row(int64_t run_id, const facts::FlowRecord& row) override;
    void dns_question(int64_t run_id, const records::DnsQuery& q) override;
    void rows_unseen(bool flows, bool dns_questions) noexcept override;

private:
    std::unique_ptr<store::DnsNames> names_;  ///< keep_dns_names(), while within names_max_
    int64_t names_run_ = 0;
    size_t names_max_ = 0;
    std::atomic<int64_t> interfaces_run_{0};
    std::atomic<uint32_t> interfaces_{0};
    std::atomic<bool> interfaces_known_{true};
};

}  // namespace callwall::attrib
