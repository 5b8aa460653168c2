// `analyze --workers N` shards the flows across N decoding threads
// (run/shards/shards.hpp). Its database must be the one a single thread
// writes: for every committed capture, analysed with --detail (so the
// per-message rows, whose flow ids the merger renumbers, are there too) by
// one thread and by 2 and 3 workers, every table's rows in insertion order
// (what `sqlite3 .dump` prints) must be byte for byte the same, the run row
// too apart from its wall-clock, command-line and writer columns.
//
// No exception: the handshake-buffer pools are per worker (each has a whole
// one), so which stalled hellos lose their buffer can depend on the split,
// and run.notes counts only what that cost the results — the hellos that
// went on after losing their buffer (captures/field/hellos_cut_by_flood.pcap
// shows two; the two flood captures, hundreds of reclaims, none). The same
// comparison runs over the real captures made by others in
// ../shared/captures/public (skipped without it).
#include <gtest/gtest.h>

#include <filesystem>

#include "golden/run_util.hpp"
#include "robustness/robustness_util.hpp"
#include "unit/raw_ip.hpp"

namespace callwall::robustness {
namespace {

// What `sqlite3 .dump` shows of the database, in its order: each table's
// rows by rowid (insertion order), the run rows without their wall-clock,
// command-line and writer columns.
std::string dump(const std::string& path) {
    Db db(path, true);
    std::string out;
    for (const std::string& table : db.rows("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")) {
        std::string columns;
        for (const std::string& c : db.rows("SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid")) {
            if (table == "run" &&
                (c == "started_at" || c == "ended_at" || c == "command_line" || c.rfind("writer_", 0) == 0))
                continue;
            columns += (columns.empty() ? "" : ", ") + c;
        }
        for (const std::string& r : db.rows("SELECT " + columns + " FROM " + table + " ORDER BY rowid"))
            out += table + "\t" + r + "\n";
    }
    EXPECT_EQ(db.first_error(), "") << path;
    EXPECT_FALSE(out.empty()) << path;
    return out;
}

// Compares one thread with 2 and 3 workers on each capture, with --detail
// or without (then the DNS questions reach the merger as counts alone, for
// dns_name); returns how many captures had flows.
size_t compare_workers(const std::string& bin, const std::vector<std::string>& captures, bool detail) {
    TempDir dir("shards");
    EXPECT_TRUE(dir.ok());
    size_t with_flows = 0;
    for (const auto& c : captures) {
        std::string dumps[3];
        int codes[3] = {0, 0, 0};
        const char* workers[3] = {"1", "2", "3"};
        for (int k = 0; k < 3; ++k) {
            const std::string db = dir.path() + "/w" + workers[k] + ".sqlite";
            std::vector<std::string> argv{bin, "analyze", "-q", "--db", db, "--workers", workers[k], c};
            if (k == 0) argv.insert(argv.begin() + 2, {"--threads", "1"});
            if (detail) argv.emplace_back("--detail");
            const RunResult r = run(argv, kCaptureRunTimeoutS);
            EXPECT_TRUE(r.exit.exited) << c << ": " << head(r.err);
            codes[k] = r.exit.code;
            if (std::filesystem::exists(db)) dumps[k] = dump(db);
            for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
        }
        for (int k = 1; k < 3; ++k) {
            EXPECT_EQ(codes[k], codes[0]) << c << " with " << workers[k] << " workers, detail " << detail;
            EXPECT_EQ(dumps[k], dumps[0]) << c << " with " << workers[k] << " workers, detail " << detail;
        }
        if (dumps[0].find("\nflow\t") != std::string::npos) ++with_flows;
    }
    return with_flows;
}

TEST(Shards, EveryCommittedCaptureGivesTheSingleThreadDatabase) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    const std::vector<std::string> captures = committed_captures();
    ASSERT_GE(captures.size(), 20u);
    for (const bool detail : {true, false})
        EXPECT_GE(compare_workers(bin, captures, detail), captures.size() - 6);  // a few hold no IP
}

// run.notes' handshake-buffer line counts what the bound cost, the same on
// one thread and on workers: the two hellos that went on after losing their
// buffer, not a stalled flow's retransmission; nothing for floods of hellos
// that never go on, however many buffers they were reclaimed from.
TEST(Shards, TheHandshakeBoundCountsWhatItCostOnAnyWorkerCount) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    TempDir dir("shards_cut");
    ASSERT_TRUE(dir.ok());
    const std::string field = source_dir() + "/captures/field/";
    const auto notes = [&](const std::string& capture, const char* workers) {
        const std::string db = dir.path() + "/" + capture + "." + workers + ".sqlite";
        std::vector<std::string> argv{bin, "analyze", "-q", "--db", db, "--workers", workers, field + capture};
        if (std::string_view(workers) == "1") argv.insert(argv.begin() + 2, {"--threads", "1"});
        const RunResult r = run(argv, kCaptureRunTimeoutS);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << capture << ": " << head(r.err);
        Db d(db, true);
        const std::vector<std::string> rows = d.rows("SELECT notes FROM run");
        return rows.size() == 1 ? rows[0] : "<" + std::to_string(rows.size()) + " runs>";
    };
    for (const char* w : {"1", "2", "3"}) {
        EXPECT_EQ(notes("hellos_cut_by_flood.pcap", w),
                  "bounds: 2 TLS/QUIC handshakes went on after their buffer was reclaimed for newer ones (pool full or "
                  "one address at its bound); those flows lack their hello\n")
            << w << " workers";
        EXPECT_EQ(notes("tls_stalled_hellos.pcap", w), "") << w << " workers";
        EXPECT_EQ(notes("quic_junk_initials.pcap", w), "") << w << " workers";
    }
}

// Frames given up at a decoder's limit are noted the same on workers as on
// one thread: the reading thread counts them before it hands frames out.
// A raw-IP capture: GRE nested deeper than the decoder follows, an IPv6
// packet with nine extension headers, and one UDP datagram that decodes.
TEST(Shards, DecodeLimitNotesAreTheSameOnWorkers) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    using namespace test::raw_ip;
    const Bytes file = raw_pcap({gre_nested(12), ipv6_with_ext_headers(9), ipv4(17, kUdp)});
    TempDir dir("shards_limits");
    ASSERT_TRUE(dir.ok());
    const std::string capture = dir.path() + "/limits.pcap";
    write_file(capture, std::string(file.begin(), file.end()));
    const auto notes = [&](const char* workers) {
        const std::string db = dir.path() + "/" + workers + ".sqlite";
        std::vector<std::string> argv{bin, "analyze", "-q", "--db", db, "--workers", workers, capture};
        if (std::string_view(workers) == "1") argv.insert(argv.begin() + 2, {"--threads", "1"});
        const RunResult r = run(argv, kCaptureRunTimeoutS);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << head(r.err);
        Db d(db, true);
        const std::vector<std::string> rows = d.rows("SELECT notes || '|' || undecoded_packets FROM run");
        return rows.size() == 1 ? rows[0] : "<" + std::to_string(rows.size()) + " runs>";
    };
    const std::string one = notes("1");
    EXPECT_NE(one.find("decode: 1 frames not decoded: tunnels nested deeper than"), std::string::npos) << one;
    EXPECT_NE(one.find("decode: 1 frames not decoded: more than 8 IPv6 extension headers"), std::string::npos) << one;
    EXPECT_EQ(one.substr(one.rfind('|')), "|2") << one;
    for (const char* w : {"2", "3"}) EXPECT_EQ(notes(w), one) << w << " workers";
}

// Tunnelled captures made by others (tests/data/tcpdump: ERSPAN types I-III,
// VXLAN, GRE): the workers split them by the pairs inside the tunnels.
TEST(Shards, TcpdumpsTunnelCapturesGiveTheSingleThreadDatabase) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    std::vector<std::string> captures;
    for (const auto& p : test::captures_in(source_dir() + "/tests/data/tcpdump")) captures.push_back(p.string());
    ASSERT_GE(captures.size(), 20u);
    EXPECT_GE(compare_workers(bin, captures, true), 10u);  // some hold only STP, ARP or hostile frames
}

// A GRE or ERSPAN mirror whose outer IPv4 packets are fragmented: the
// fragments go to the worker of the flow inside (run/shards/fragment_routes.hpp),
// so the datagrams they make up join the same flows as the tunnel's whole
// packets do — the flows of the bare capture, not their halves twice.
TEST(Shards, FragmentedTunnelsGiveTheSingleThreadDatabase) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    const std::string encap = source_dir() + "/captures/encap/inconclusive_and_dns.";
    const std::vector<std::string> captures{encap + "grefrag.pcap", encap + "erspan2frag.pcap"};
    EXPECT_EQ(compare_workers(bin, captures, true), 2u);
    EXPECT_EQ(compare_workers(bin, captures, false), 2u);
    TempDir dir("shards_frag");
    ASSERT_TRUE(dir.ok());
    const auto flows = [&](const std::string& capture, const char* workers) {
        const std::string db = dir.path() + "/" + std::to_string(std::hash<std::string>{}(capture)) + workers;
        std::vector<std::string> argv{bin, "analyze", "-q", "--db", db, "--workers", workers, capture};
        if (std::string_view(workers) == "1") argv.insert(argv.begin() + 2, {"--threads", "1"});
        const RunResult r = run(argv, kCaptureRunTimeoutS);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << capture << ": " << head(r.err);
        Db d(db, true);
        return d.rows(
            "SELECT transport, client_ip, client_port, server_ip, server_port, later_fragments > 0 FROM flow "
            "ORDER BY id");
    };
    const auto bare = flows(source_dir() + "/captures/scenarios/inconclusive_and_dns.pcap", "1");
    ASSERT_GE(bare.size(), 10u);
    for (const auto& c : captures) {
        for (const char* w : {"1", "2", "3", "4"}) {
            const auto got = flows(c, w);
            // The bare flows (each outer fragment counts as a packet of its flow).
            ASSERT_EQ(got.size(), bare.size()) << c << " with " << w << " workers";
            size_t fragmented = 0;
            for (size_t k = 0; k < got.size(); ++k) {
                EXPECT_EQ(got[k].substr(0, got[k].rfind('\t')), bare[k].substr(0, bare[k].rfind('\t')))
                    << c << " with " << w << " workers";
                fragmented += got[k].back() == '1';
            }
            EXPECT_GE(fragmented, 2u) << c << ": the capture no longer fragments several flows' packets";
        }
    }
}

// The same over the real captures made by others (../shared/captures/public).
TEST(Shards, EveryPublicCaptureGivesTheSingleThreadDatabase) {
    const std::string bin = binary();
    if (bin.empty() || !executable(bin)) GTEST_SKIP() << "callwall binary not built: " << bin;
    const auto dir = std::filesystem::path(CALLWALL_SHARED_DIR) / "captures/public";
    if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir.string() << " (../shared absent)";
    std::vector<std::string> captures;
    for (const auto& p : test::captures_in(dir.string())) captures.push_back(p.string());
    ASSERT_GE(captures.size(), 20u);
    EXPECT_GE(compare_workers(bin, captures, true), captures.size() / 2);
}

}  // namespace
}  // namespace callwall::robustness
