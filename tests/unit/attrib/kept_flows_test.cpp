// A file run's flows kept for its attribution (attrib/kept_flows.hpp): the
// same facts, and so the same verdicts, as the rows read back.
#include "attrib/kept_flows.hpp"
#include "attrib/kept_rows.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "attrib/flow_row.hpp"
#include "attrib/run_attribution.hpp"
#include "golden/run_util.hpp"
#include "run/row_hook.hpp"
#include "run/store_analyzer.hpp"
#include "store/attribution_io.hpp"
#include "store/store.hpp"
#include "unit/corpus.hpp"

namespace callwall::attrib {
namespace {

using test::attribution_rows;
using test::TempDb;

// Every field of a flow's facts, as one line.
std::string line(const FlowFacts& f) {
    std::string s = std::to_string(f.id) + " " + f.outcome + "|" + f.transport + " " + f.client_ip + ":" +
                    std::to_string(f.client_port) + " " + f.server_ip + ":" + std::to_string(f.server_port) + " ";
    char ts[160];
    std::snprintf(ts, sizeof ts, "%.17g %.17g %.17g %.17g ", f.first_ts, f.last_ts, f.first_syn_ts, f.last_syn_ts);
    s += ts;
    for (const uint64_t v : {f.packets_c2s, f.packets_s2c, f.rtp_packets}) s += std::to_string(v) + " ";
    s += f.state + " " + f.icmp_from + " " + f.app + " ";
    for (const long long v : {(long long)f.syn_count,
                              (long long)f.synack_count,
                              (long long)f.rst_ttl,
                              (long long)f.server_ttl_min,
                              (long long)f.server_ttl_max,
                              (long long)f.icmp_errors,
                              (long long)f.icmp_type,
                              (long long)f.icmp_code,
                              (long long)f.icmp_family(),
                              (long long)f.stun_requests,
                              (long long)f.stun_answered,
                              (long long)f.stun_errors,
                              (long long)f.stun_retransmissions,
                              (long long)f.stun_ice_checks,
                              (long long)f.stun_requests_s2c,
                              (long long)f.stun_answered_s2c,
                              (long long)f.stun_retransmissions_s2c,
                              (long long)f.proxy_port,
                              (long long)f.dtls_handshake,
                              (long long)f.channel_data})
        s += std::to_string(v) + " ";
    for (const auto& n : f.names) s += "[" + n.name + " " + n.source + "]";
    return s;
}

std::vector<std::string> kept_lines(KeptFlows& kept) {
    std::vector<std::string> out;
    std::vector<FlowFacts> page;
    for (size_t at = 0;;) {
        kept.page(at, 100, page);  // several pages on the larger captures
        if (page.empty()) return out;
        for (const auto& f : page) out.push_back(line(f));
    }
}

std::vector<std::string> stored_lines(store::Store& s, int64_t run) {
    std::vector<std::string> out;
    store::AttributionIo io(s, run);
    std::vector<FlowFacts> page;
    for (uint64_t after = 0;;) {
        io.read_flow_page(after, 100, page);
        if (page.empty()) return out;
        after = page.back().id;
        for (const auto& f : page) out.push_back(line(f));
    }
}

// Over every committed capture, and the real captures of ../shared when it is
// there: the kept flows are the rows read back, field for field and name for
// name, with the STUN hosts and every server's TTLs; and attribution from
// them writes what attribution from the rows writes, on one thread and with
// the DNS queries read ahead on a second.
TEST(KeptFlows, EveryCommittedCaptureKeepsWhatItsRowsReadBackGive) {
    auto captures = test::committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir();
    const size_t committed = captures.size();
    if (const std::string shared = test::shared_dir(); !shared.empty())
        for (const auto& p : test::captures_in(shared + "/captures/public")) captures.push_back(p);
    size_t flows = 0, named = 0, attributed = 0;
    for (const auto& capture : captures) {
        SCOPED_TRACE(capture.string());
        TempDb from_rows, from_memory;
        const int64_t run = test::analyze_files({capture.string()}, from_rows.path());
        KeptFlows kept;
        run::RowHook hook({}, &kept);
        ASSERT_EQ(test::analyze_files({capture.string()}, from_memory.path(), {}, nullptr, {&hook}), run);
        ASSERT_TRUE(kept.complete());
        std::vector<std::string> stored;
        {
            auto s = store::Store::open(from_rows.path());
            stored = stored_lines(*s, run);
            store::AttributionIo io(*s, run);
            EXPECT_EQ(kept.stun_answered_hosts(), io.stun_answered_hosts());
            for (const std::string& ip : test::query_rows(from_rows.path(), "SELECT DISTINCT server_ip FROM flow"))
                EXPECT_EQ(kept.server_ttls(ip), io.server_ttls(ip)) << ip;
        }
        EXPECT_EQ(kept_lines(kept), stored);
        flows += stored.size();
        for (const auto& l : stored) named += l.back() == ']';
        for (const bool second_core : {false, true}) {
            for (const bool memory : {false, true}) {
                const std::string& db = memory ? from_memory.path() : from_rows.path();
                auto s = store::Store::open(db);
                s->write_behind(second_core);  // DNS queries (and pages, from the rows) read ahead
                run_attribution(*s, run, test::bundled_catalog(), {}, {}, memory ? &kept : nullptr);
            }
            EXPECT_EQ(attribution_rows(from_memory.path()), attribution_rows(from_rows.path()))
                << "second core " << second_core;
        }
        attributed += test::query_rows(from_memory.path(), "SELECT count(*) FROM flow_match")[0] != "0";
    }
    EXPECT_GT(flows, 5000u) << committed << " committed captures";
    EXPECT_GT(named, 400u);
    EXPECT_GT(attributed, 20u);
}

// How a run is attributed in one_store_run: from the rows read back; from
// the kept flows (the rest read back); or from memory alone, as the commands
// do (the kept flows with the run's totals, and the DNS names kept as their
// questions were handed to the store: KeptRows).
enum class From { Rows, KeptFlows, Memory };

// A capture analysed and attributed on one Store, as a command does: a new
// database, whose reader indexes are first built during the attribution
// (on the writer thread, with a second core and the flows in memory).
// `tamper` (may be empty) runs on the database, through a connection of
// its own, between the last row and the attribution. Returns what
// attribution wrote; `indexes` says whether they were there when it
// returned.
// `attribute` (may be empty) attributes the run instead of one plain
// run_attribution, given the store, the run, the kept flows (null when read
// back), the kept rows and the database's path.
using Attribute =
    std::function<void(store::Store& s, int64_t run, KeptFlows* kept, KeptRows& rows, const std::string& db)>;
std::vector<std::string> one_store_run(const std::string& capture, bool second_core, From from, bool& indexes,
                                       const std::string& tamper = "", const Attribute& attribute = {}) {
    TempDb db;
    KeptRows rows;  // the store's tap: it outlives the store
    auto s = store::Store::open(db.path());
    s->tap_rows(&rows);
    store::RunInfo info;
    info.kind = "analyze";
    info.source = capture;
    info.command_line = "test";
    const int64_t run = s->begin_run(info);
    s->write_behind(second_core);
    KeptFlows kept;
    pipeline::AnalyzerConfig cfg;
    run::RowHook hook(provisional_outcome, from != From::Rows ? &kept : nullptr);
    if (from == From::Memory) rows.keep_dns_names(run);
    {
        run::StoreAnalyzer wired(s.get(), run, cfg, {&hook});
        run::StoreAnalyzer& a = wired;
        auto src = capture::PcapSource::open_file(capture);
        decode::RawFrame fr;
        while (src->next(fr) == capture::NextStatus::Frame) a.process(fr);
        a.finish();
        const store::RunTotals& t = a.totals();
        if (from == From::Memory) kept.set_run_totals(t.packets ? t.last_ts : 0, t.flows_evicted_full);
        s->update_run(run, t, store::RunStatus::Completed, 1.0);
    }
    EXPECT_EQ(kept.complete() && kept.size() > 0, from != From::Rows && kept.size() > 0);
    EXPECT_EQ(rows.dns_names_kept(run), from == From::Memory);
    if (!tamper.empty()) {
        s->flush();
        s->sync_writes();
        sqlite3* raw = nullptr;
        EXPECT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(raw, tamper.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
        sqlite3_close(raw);
    }
    KeptFlows* const kept_or_none = from != From::Rows ? &kept : nullptr;
    if (attribute)
        attribute(*s, run, kept_or_none, rows, db.path());
    else
        run_attribution(*s, run, test::bundled_catalog(), {}, {}, kept_or_none, &rows);
    indexes = test::query_rows(db.path(),
                               "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN "
                               "('unmatched_flow_idx', 'dns_query_run', 'flow_match_entry')")[0] == "3";
    s.reset();
    return attribution_rows(db.path());
}

// The way the commands run: one Store from the first row to the verdicts.
// Attribution from the kept flows writes what attribution from the rows
// writes, on one thread and with the second core (where the writer thread
// builds the reader indexes while the flows are attributed), and the
// indexes are there when it returns.
TEST(KeptFlows, OneStoreFromTheFirstRowToTheVerdicts) {
    const auto captures = test::committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir();
    size_t written = 0;
    for (const auto& capture : captures) {
        SCOPED_TRACE(capture.string());
        for (const bool second_core : {false, true}) {
            bool indexed[3] = {false, false, false};
            const auto from_rows = one_store_run(capture.string(), second_core, From::Rows, indexed[0]);
            const auto from_kept = one_store_run(capture.string(), second_core, From::KeptFlows, indexed[1]);
            const auto from_memory = one_store_run(capture.string(), second_core, From::Memory, indexed[2]);
            EXPECT_EQ(from_kept, from_rows) << "second core " << second_core;
            EXPECT_EQ(from_memory, from_rows) << "second core " << second_core;
            EXPECT_TRUE(indexed[0] && indexed[1] && indexed[2]) << "second core " << second_core;
            written += from_rows.size();
        }
    }
    EXPECT_GT(written, 1000u);
}

// From memory alone, attribution reads nothing the run wrote: with the
// rows it would read (the run's end, the flow names, the DNS names) gone
// from the database it writes the same verdicts, while the same damage
// changes what an attribution reading them back writes. dns_basic.pcap has
// vendor names asked and answered, an NXDOMAIN and an unanswered question.
TEST(KeptFlows, FromMemoryAttributionReadsNothingBack) {
    const std::string capture = test::source_dir() + "/captures/dns_basic.pcap";
    if (!std::filesystem::exists(capture)) GTEST_SKIP() << "no " << capture;
    const std::string tamper =
        "DELETE FROM dns_name; DELETE FROM flow_name; UPDATE run SET last_ts = NULL, flows_evicted_full = 0";
    for (const bool second_core : {false, true}) {
        SCOPED_TRACE(second_core ? "second core" : "one core");
        bool indexed = false;
        const auto intact = one_store_run(capture, second_core, From::Rows, indexed);
        ASSERT_GT(intact.size(), 10u);
        EXPECT_NE(std::find_if(intact.begin(), intact.end(),
                               [](const std::string& r) { return r.find("dns-failure") != std::string::npos; }),
                  intact.end())
            << "the capture shows a DNS failure";
        EXPECT_EQ(one_store_run(capture, second_core, From::Memory, indexed, tamper), intact);
        EXPECT_TRUE(indexed);
        EXPECT_NE(one_store_run(capture, second_core, From::KeptFlows, indexed, tamper), intact)
            << "the damage shows when the rows are read back";
    }
}

// With the flows in memory and a second core, the store's writer thread
// writes attribution's rows while the flows are judged: a write that fails
// there is the caller's error, the same as when written inline, and
// nothing of the attribution is left (rows, verdicts, outcomes). A trigger
// refuses every flow_match row (rtmp_handshake.pcap has three).
TEST(KeptFlows, AWriteThatFailsBehindIsTheCallersErrorAndLeavesNothing) {
    const std::string capture = test::source_dir() + "/captures/rtmp_handshake.pcap";
    if (!std::filesystem::exists(capture)) GTEST_SKIP() << "no " << capture;
    const std::string refuse =
        "CREATE TRIGGER refuse_match BEFORE INSERT ON flow_match BEGIN SELECT RAISE(ABORT, 'refused here'); END";
    bool indexed = false;
    const auto intact = one_store_run(capture, true, From::Memory, indexed);
    ASSERT_NE(
        std::find_if(intact.begin(), intact.end(), [](const std::string& r) { return r.rfind("match\t", 0) == 0; }),
        intact.end())
        << "the capture's flows match entries";
    std::string errors[2];
    std::vector<std::string> left[2];
    for (const bool second_core : {false, true}) {
        SCOPED_TRACE(second_core ? "second core" : "one core");
        std::string& error = errors[second_core];
        const Attribute refused = [&](store::Store& s, int64_t run, KeptFlows* kept, KeptRows& rows,
                                      const std::string&) {
            try {
                run_attribution(s, run, test::bundled_catalog(), {}, {}, kept, &rows);
                ADD_FAILURE() << "attribution did not fail";
            } catch (const store::StoreError& e) {
                error = e.what();
            }
        };
        left[second_core] = one_store_run(capture, second_core, From::Memory, indexed, refuse, refused);
        EXPECT_NE(errors[second_core].find("refused here"), std::string::npos) << errors[second_core];
        EXPECT_FALSE(left[second_core].empty());
        for (const std::string& r : left[second_core]) EXPECT_EQ(r.rfind("outcome\t", 0), 0u) << r;
    }
    const auto after_path = [](const std::string& e) { return e.substr(std::min(e.find(": "), e.size())); };
    EXPECT_EQ(after_path(errors[1]), ": writing a flow match: refused here");
    EXPECT_EQ(after_path(errors[1]), after_path(errors[0]));  // each run's own database named first
    EXPECT_EQ(left[1], left[0]) << "the flows' outcomes as the run wrote them";
}

// Cancelled at each of its checks — after the run's context, before the
// first page, after the last (the first page's rows then given to the
// writer thread when there is one), after the judging — an attribution
// throws AttributionCancelled and leaves nothing of itself: the queued
// rows are waited for and rolled back. The same store then attributes the
// run to the rows of an attribution never cancelled.
TEST(KeptFlows, ACancelledAttributionLeavesNothingAndTheStoreAttributesAgain) {
    const std::string capture = test::source_dir() + "/captures/rtmp_handshake.pcap";
    if (!std::filesystem::exists(capture)) GTEST_SKIP() << "no " << capture;
    bool indexed = false;
    const auto intact = one_store_run(capture, true, From::Memory, indexed);
    std::vector<std::string> run_wrote;  // the flows' outcomes before any attribution
    for (const bool second_core : {false, true}) {
        for (int cancel_at = 1; cancel_at <= 4; ++cancel_at) {
            SCOPED_TRACE(std::string(second_core ? "second core" : "one core") + ", check " +
                         std::to_string(cancel_at));
            bool cancelled = false;
            std::vector<std::string> left;
            const Attribute cancel_then_again = [&](store::Store& s, int64_t run, KeptFlows* kept, KeptRows& rows,
                                                    const std::string& db) {
                int checks = 0;
                try {
                    run_attribution(
                        s, run, test::bundled_catalog(), [&] { return ++checks == cancel_at; }, {}, kept, &rows);
                } catch (const AttributionCancelled&) {
                    cancelled = true;
                }
                left = attribution_rows(db);
                run_attribution(s, run, test::bundled_catalog(), {}, {}, kept, &rows);
            };
            EXPECT_EQ(one_store_run(capture, second_core, From::Memory, indexed, "", cancel_then_again), intact);
            EXPECT_TRUE(cancelled);
            for (const std::string& r : left) EXPECT_EQ(r.rfind("outcome\t", 0), 0u) << r;
            if (run_wrote.empty()) run_wrote = left;
            EXPECT_EQ(left, run_wrote);
            EXPECT_TRUE(indexed);
        }
    }
    EXPECT_FALSE(run_wrote.empty());
}

flow::Flow udp_flow(uint64_t id, uint32_t server) {
    flow::Flow f;
    f.id = id;
    f.proto = decode::kProtoUdp;
    f.client_ip = decode::IpAddr::v4(0x0A000001u);
    f.server_ip = decode::IpAddr::v4(server);
    f.client_port = 50000;
    f.server_port = 3478;
    f.packets[0] = 2;
    f.packets[1] = 1;
    f.ttl_min[1] = 50;
    f.ttl_max[1] = 52;
    f.first_ts_us = 1'767'225'600'000'000 + static_cast<int64_t>(id);
    f.last_ts_us = f.first_ts_us + 1000;
    return f;
}

// A flow's names as its flow_name rows hold them: once per (name, source),
// by source descending, then name. Flows come out in id order, whatever
// order they ended in; ICMP flows are not kept (attribution reads none).
TEST(KeptFlows, NamesAsTheirRowsAndFlowsInIdOrder) {
    KeptFlows kept;
    facts::FlowNames names;
    names.entries[0] = {"b.example.com", "dns"};
    names.entries[1] = {"a.example.com", "dns"};
    names.entries[2] = {"b.example.com", "dns"};
    names.entries[3] = {"z.example.com", "dns-initiator"};
    names.entries[4] = {"a.example.com", "sni"};
    names.count = 5;
    kept.add(facts_of(udp_flow(9, 0xC6336401u), {}), names);
    flow::Flow icmp = udp_flow(3, 0xC6336401u);
    icmp.proto = decode::kProtoIcmp;
    kept.add(facts_of(icmp, {}), facts::FlowNames{});
    kept.add(facts_of(udp_flow(4, 0xC6336402u), {}), facts::FlowNames{});
    EXPECT_EQ(kept.size(), 2u);
    std::vector<FlowFacts> page;
    size_t at = 0;
    kept.page(at, 10, page);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].id, 4u);
    EXPECT_EQ(page[1].id, 9u);
    std::vector<std::string> got;
    for (const auto& n : page[1].names) got.push_back(n.source + " " + n.name);
    EXPECT_EQ(got, (std::vector<std::string>{"sni a.example.com", "dns-initiator z.example.com", "dns a.example.com",
                                             "dns b.example.com"}));
    EXPECT_EQ(kept.server_ttls("198.51.100.1"), (std::set<int>{50, 52}));
    EXPECT_TRUE(kept.server_ttls("192.0.2.1").empty());
    kept.page(at, 10, page);
    EXPECT_TRUE(page.empty());
}

// Flows kept out of id order come out in id order, whether their ids nearly
// cover a range (placed by id) or are spread thin (sorted); a page's facts,
// filled again from page to page, hold only their own flow's values and names.
TEST(KeptFlows, PagesInIdOrderWhateverTheSpreadOfIdsAndReusedFactsHoldOnlyTheirFlow) {
    for (const uint64_t spread : {uint64_t{1}, uint64_t{100}}) {
        KeptFlows kept;
        std::vector<uint64_t> ids;
        for (uint64_t i = 1; i <= 200; ++i) ids.push_back(i * spread);
        std::mt19937 rng(7);
        std::shuffle(ids.begin(), ids.end(), rng);
        for (const uint64_t id : ids) {
            facts::FlowNames names;
            if (id % 3 == 0) {
                names.entries[0] = {"media.example.com", "dns"};
                names.entries[1] = {"a-rather-long-name-beyond-small-strings.example.com", "sni"};
                names.count = 2;
            }
            flow::Flow f = udp_flow(id, 0xC6336401u + static_cast<uint32_t>(id % 2));
            f.server_port = static_cast<uint16_t>(1000 + id % 7);
            kept.add(facts_of(f, {}), names);
        }
        ASSERT_EQ(kept.size(), 200u);
        std::vector<FlowFacts> page;
        std::vector<uint64_t> seen;
        for (size_t at = 0;;) {
            kept.page(at, 7, page);
            if (page.empty()) break;
            for (const FlowFacts& f : page) {
                seen.push_back(f.id);
                EXPECT_EQ(f.names.size(), f.id % 3 == 0 ? 2u : 0u) << "flow " << f.id << ", spread " << spread;
                EXPECT_EQ(f.server_port, 1000 + f.id % 7) << "flow " << f.id;
                EXPECT_EQ(f.server_ip, f.id % 2 ? "198.51.100.2" : "198.51.100.1") << "flow " << f.id;
                if (f.names.size() == 2) {
                    EXPECT_EQ(f.names[0].source, "sni");
                }
            }
        }
        std::vector<uint64_t> want = ids;
        std::sort(want.begin(), want.end());
        EXPECT_EQ(seen, want) << "spread " << spread;
    }
}

// A kept flow reads back bit for bit, whatever its columns hold: every one
// at a new flow's value, every one set (the largest and smallest values of
// its type, -0.0, a NaN, long text), and a mix; the packed form keeps only
// what differs from a new flow's.
TEST(KeptFlows, EveryColumnReadsBackBitForBit) {
    const auto extreme = [](FlowFacts& f, int which) {
        int i = 0;
        facts::each_read_column(f, [&](auto& v) {
            using T = std::decay_t<decltype(v)>;
            const bool set = which == 1 || (which == 2 && i % 3 != 0);
            if constexpr (std::is_same_v<T, std::string>) {
                if (set) v = "column-" + std::to_string(i) + std::string(static_cast<size_t>(i % 5) * 9, 'x');
            } else if constexpr (std::is_same_v<T, double>) {
                if (set) v = i % 3 == 0 ? -0.0 : i % 3 == 1 ? std::numeric_limits<double>::quiet_NaN() : 1.7e9 + i;
            } else if constexpr (std::is_same_v<T, bool>) {
                if (set) v = !v;
            } else {
                if (set) v = i % 2 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min();
            }
            ++i;
        });
    };
    KeptFlows kept;
    std::vector<FlowFacts> put(3);
    for (int which = 0; which < 3; ++which) {
        extreme(put[which], which);
        put[which].id = 10 + which;  // in id order; the others as set
        put[which].transport = which == 0 ? "udp" : "tcp";  // kept: TCP or UDP
        kept.add(put[which], facts::FlowNames{});
    }
    std::vector<FlowFacts> page;
    size_t at = 0;
    kept.page(at, 10, page);
    ASSERT_EQ(page.size(), 3u);
    for (int which = 0; which < 3; ++which) {
        int i = 0;
        facts::each_read_column(page[which], put[which], [&](const auto& got, const auto& want) {
            using T = std::decay_t<decltype(got)>;
            if constexpr (std::is_same_v<T, std::string>)
                EXPECT_EQ(got, want) << "flow " << which << ", read column " << i;
            else
                EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0) << "flow " << which << ", read column " << i;
            ++i;
        });
    }
}

// One flow past the bound and nothing is kept: the run's attribution reads
// its rows, and writes the same.
TEST(KeptFlows, PastItsBoundItKeepsNothingAndAttributionReadsTheRows) {
    const auto captures = test::committed_captures();
    if (captures.empty()) GTEST_SKIP() << "no committed captures under " << test::source_dir();
    const std::string capture = test::source_dir() + "/captures/scenarios/agora_2020_rtc_web.pcap";
    if (!std::filesystem::exists(capture)) GTEST_SKIP() << "no " << capture;
    TempDb a, b;
    KeptFlows all, bounded(3);
    run::RowHook keep_all({}, &all), keep_bounded({}, &bounded);
    const int64_t run = test::analyze_files({capture}, a.path(), {}, nullptr, {&keep_all});
    ASSERT_EQ(test::analyze_files({capture}, b.path(), {}, nullptr, {&keep_bounded}), run);
    ASSERT_GT(all.size(), 3u);
    EXPECT_TRUE(all.complete());
    EXPECT_FALSE(bounded.complete());
    EXPECT_EQ(bounded.size(), 0u);
    for (const auto& [db, kept] : {std::pair{&a, &all}, std::pair{&b, &bounded}}) {
        auto s = store::Store::open(db->path());
        run_attribution(*s, run, test::bundled_catalog(), {}, {}, kept);
    }
    EXPECT_EQ(attribution_rows(b.path()), attribution_rows(a.path()));
    EXPECT_GT(test::query_rows(a.path(), "SELECT count(*) FROM flow_match")[0], "0");
}

}  // namespace
}  // namespace callwall::attrib
