// Private to the library: a file run's TCP/UDP flows kept in memory as their
// rows are written, so that its attribution takes them from here instead of
// reading every row back out of SQLite (the pages, the STUN hosts' scan and
// the reset servers' TTLs were a tenth of a busy run's instructions:
// docs/performance.md). What attribution gets is exactly what the rows hold:
// the flow's facts as facts_of gives them (the row's columns), its names as
// its flow_name rows (once each, by source descending, then name).
//
// Memory is bounded: a compact record per flow (text interned, the columns
// that are not a new flow's packed: ~100 bytes where all of them take 216) up to `max_flows`; one more and everything kept is
// dropped, and the run's attribution reads its rows back as before.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attrib/attrib.hpp"
#include "facts/naming.hpp"
#include "facts/flow_facts.hpp"
#include "util/huge_pages.hpp"

namespace callwall::attrib {

class KeptFlows {
public:
    /// 65,536 flows: ~7 MiB of packed records, and their names and text, at most.
    static constexpr size_t kDefaultMaxFlows = size_t{1} << 16;

    explicit KeptFlows(size_t max_flows = kDefaultMaxFlows) : max_flows_(max_flows) { last_column_id_.fill(kNoText); }

    /// A flow whose row was just written: its facts as facts_of gives them
    /// from the flow and the row's columns (after the outcome hint), and the
    /// names its flow_name rows were written with. Flows that are neither
    /// TCP nor UDP (no transport) are not attributed: only their names are
    /// kept (for_each_flow_name).
    void add(const FlowFacts& facts, const facts::FlowNames& names) noexcept;
    /// The run's row as its end writes it: the capture time of its last
    /// packet (0: none) and the flows evicted from a full table. With them
    /// (and the DNS names the store kept) attribution reads nothing back.
    void set_run_totals(double capture_end, uint64_t evicted_full) noexcept;
    [[nodiscard]] bool totals_known() const noexcept { return totals_known_; }
    [[nodiscard]] double capture_end() const noexcept { return capture_end_; }
    [[nodiscard]] uint64_t evicted_full() const noexcept { return evicted_full_; }
    /// Each distinct name of the run's flow_name rows, once (any order).
    template <class F>
    void for_each_flow_name(F&& fn) const {
        for (uint32_t id = 0; id < is_name_.size(); ++id)
            if (is_name_[id]) fn(std::string_view(text(id)));
    }
    /// A row was written that this object did not see (a live snapshot's, a
    /// failed write): attribution must read the rows.
    void abandon() noexcept;
    /// Every TCP/UDP flow row of the run is here.
    [[nodiscard]] bool complete() const noexcept { return !abandoned_; }
    [[nodiscard]] size_t size() const noexcept { return flows_.size(); }

    /// Up to `max` flows after the first `at` in id order (their order
    /// sorted on the first call), as AttributionIo::read_flow_page gives
    /// them; `at` advances. `out` is resized to the page and each of its flows overwritten whole.
    void page(size_t& at, size_t max, std::vector<FlowFacts>& out);
    /// AttributionIo::one_direction over the kept flows.
    [[nodiscard]] const OneDirection& one_direction() const noexcept { return one_direction_; }
    /// AttributionIo::stun_answered_hosts over the kept flows.
    [[nodiscard]] std::set<std::string> stun_answered_hosts() const;
    /// AttributionIo::server_ttls over the kept flows.
    [[nodiscard]] const std::set<int>& server_ttls(const std::string& server_ip);

private:
    /// A FlowFacts with its text interned (addresses, state, app and outcome
    /// repeat from flow to flow) and its names elsewhere: 216 bytes as a
    /// struct, kept packed (Packed). The columns are those attribution reads
    /// (facts/flow_facts.hpp), each text as the id of its interned copy.
    struct Record {
        uint32_t names_at = 0;  ///< into names_
        uint16_t names_n = 0;
        CALLWALL_FLOW_COLUMNS(CALLWALL_FLOW_READ_MEMBER(uint32_t))
    };
    struct Name {
        uint32_t name = 0, source = 0;
    };
    /// Records one after another, each as the fields that differ from a new
    /// record's (most columns of a flow are 0 or "none"), in kHugePage
    /// blocks, a record never across two. A record reads back as it was put.
    class Packed {
    public:
        Packed() = default;
        ~Packed() { clear(); }
        Packed(const Packed&) = delete;
        Packed& operator=(const Packed&) = delete;
        void push_back(const Record& r);
        /// The i-th record put.
        [[nodiscard]] Record operator[](size_t i) const noexcept;
        /// Its id alone (the first column).
        [[nodiscard]] uint64_t id(size_t i) const noexcept;
        [[nodiscard]] size_t size() const noexcept { return at_.size(); }
        [[nodiscard]] bool empty() const noexcept { return at_.empty(); }
        void clear() noexcept;

    private:
        [[nodiscard]] const uint8_t* start(size_t i) const noexcept {
            return blocks_[at_[i] / util::kHugePage] + at_[i] % util::kHugePage;
        }
        std::vector<uint8_t*> blocks_;  ///< from util::huge_allocate, kHugePage each
        size_t used_ = 0;  ///< bytes of the last block in use
        std::vector<uint32_t> at_;  ///< each record's start: block * kHugePage + offset
    };
    /// A record's id and its place in flows_.
    struct Place {
        uint64_t id = 0;
        uint32_t at = 0;
    };

    void keep(const FlowFacts& x, const facts::FlowNames& names);
    /// Interns a flow name and marks it as one (for_each_flow_name).
    uint32_t intern_name(std::string_view name);
    uint32_t intern(std::string_view s);
    /// intern for the flow's text column `column` (its place among them):
    /// a column's value is often the last flow's (transport, state, app,
    /// outcome), which a comparison finds without hashing.
    uint32_t intern_column(size_t column, std::string_view s);
    /// Marks an interned address as a host whose STUN request was answered.
    void mark_stun_host(uint32_t address);
    [[nodiscard]] const std::string& text(uint32_t id) const noexcept { return text_[id]; }
    void fill(const Record& r, FlowFacts& f) const;
    /// order_: every record's id and place, by id.
    void sort_order();

    size_t max_flows_;
    bool abandoned_ = false;
    bool sorted_ = true;  ///< flows_ came in id order
    OneDirection one_direction_;  ///< the kept flows' interfaces, and which show the far side
    Packed flows_;  ///< in blocks: growing never holds two copies of it
    uint64_t last_id_ = 0;  ///< the id of the record put last
    std::vector<Place> order_;  ///< flows_ in id order, when they did not come in it (page())
    std::vector<Name> names_;
    std::deque<std::string> text_;  ///< interned text by id (a deque: the views in ids_ stay put)
    std::unordered_map<std::string_view, uint32_t> ids_;
    static constexpr uint32_t kNoText = UINT32_MAX;
    /// intern_column's last id per text column (kNoText: none yet).
    std::array<uint32_t, 16> last_column_id_{};
    std::unordered_map<uint32_t, std::set<int>> ttls_;  ///< server_ttls' answers, by interned address
    bool ttls_read_ = false;
    std::vector<bool> is_name_;  ///< by interned id: a flow_name row's name
    std::vector<bool> is_stun_host_;  ///< by interned id: an address stun_answered_hosts gives
    bool totals_known_ = false;
    double capture_end_ = 0;
    uint64_t evicted_full_ = 0;
};

}  // namespace callwall::attrib
