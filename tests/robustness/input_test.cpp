// Input conveniences of analyze: "-" reads standard input;
// .gz, .zst and .xz captures are read as the plain file (by magic, whatever
// the name); a truncated compressed file is damaged after what it held;
// --filter keeps only the packets a BPF expression matches; several files
// are read by their first packet's time unless --keep-order.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "robustness/cli_test.hpp"

namespace callwall::robustness {
namespace {

/// The commands that compress at test time, and the names we give their outputs.
struct Codec {
    const char* tool;  ///< absolute path
    const char* name;  ///< file name; "disguised.pcap" tests detection by magic
};
constexpr Codec kCodecs[] = {
    {"/usr/bin/gzip", "whereby.pcap.gz"},
    {"/usr/bin/zstd", "whereby.zst"},
    {"/usr/bin/xz", "whereby.pcap.xz"},
    {"/usr/bin/gzip", "disguised.pcap"},
};

class Input : public CliTest {
protected:
    Input() : CliTest("input") {}

    void SetUp() override {
        CliTest::SetUp();
        if (IsSkipped()) return;
        whereby_ = source_dir() + "/captures/scenarios/whereby.pcap";
        ASSERT_TRUE(std::filesystem::exists(whereby_));
    }

    /// `sh -c script` (for pipes and redirections); stderr captured.
    RunResult shell(const std::string& script) { return run({"/bin/sh", "-c", script}, kCliTimeoutS); }

    /// Compresses `in` into `out` with `tool` (-c to standard output); false if that failed.
    bool compress(const std::string& tool, const std::string& in, const std::string& out) {
        const auto r = shell("'" + tool + "' -c < '" + in + "' > '" + out + "'");
        return r.exit.exited && r.exit.code == 0;
    }

    /// What a run found: every flow (5-tuple, times, counters, state) and every verdict.
    static std::vector<std::string> results(const std::string& db_path) {
        Db db(db_path, true);
        auto rows = db.rows(
            "SELECT transport, client_ip, client_port, server_ip, server_port, first_ts, last_ts, packets_c2s, "
            "bytes_c2s, packets_s2c, bytes_s2c, state FROM flow ORDER BY first_ts, client_ip, client_port, server_ip, "
            "server_port, transport");
        for (auto& v :
             db.rows("SELECT entry_id, verdict, reasons, flows_observed, flows_blocked FROM verdict ORDER BY entry_id"))
            rows.push_back(v);
        EXPECT_EQ(db.first_error(), "") << db_path;
        EXPECT_FALSE(rows.empty()) << db_path;
        return rows;
    }

    std::string analyze_ok(const std::vector<std::string>& args, const std::string& db) {
        std::vector<std::string> a{"analyze", "-q"};
        a.insert(a.end(), args.begin(), args.end());
        a.insert(a.end(), {"--db", db});
        const auto r = callwall(a);
        EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << "\n" << head(r.err);
        EXPECT_FALSE(has_sanitizer_report(r.err)) << r.err;
        return r.err;
    }

    /// Splits a classic pcap into `parts` files of consecutive records.
    static std::vector<std::string> split_pcap(const std::string& path, size_t parts, const std::string& stem) {
        const std::string in = read_file(path);
        std::vector<size_t> starts;
        size_t off = 24;
        while (off + 16 <= in.size()) {
            starts.push_back(off);
            const auto* p = reinterpret_cast<const uint8_t*>(in.data() + off + 8);
            const uint32_t caplen = p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24;
            off += 16 + caplen;
        }
        EXPECT_EQ(off, in.size()) << "not a little-endian classic pcap";
        starts.push_back(in.size());
        std::vector<std::string> out;
        const size_t per = (starts.size() - 1 + parts - 1) / parts;
        for (size_t k = 0; k < parts; ++k) {
            const size_t a = starts[std::min(k * per, starts.size() - 1)];
            const size_t b = starts[std::min((k + 1) * per, starts.size() - 1)];
            // tcpdump -C's names: cap.pcap, cap.pcap1, cap.pcap2, ...
            out.push_back(stem + (k ? std::to_string(k) : ""));
            write_file(out.back(), in.substr(0, 24) + in.substr(a, b - a));
        }
        return out;
    }

    std::string whereby_;
};

TEST_F(Input, CompressedCapturesGiveTheSameDatabaseAsThePlainFile) {
    const std::string plain_db = dir_ / "plain.sqlite";
    analyze_ok({whereby_}, plain_db);
    const auto plain = results(plain_db);
    ASSERT_GT(plain.size(), 5u);
    size_t tried = 0;
    for (const auto& c : kCodecs) {
        if (!executable(c.tool)) {
            std::printf("[ SKIPPED  ] %s is missing: %s not tested\n", c.tool, c.name);
            continue;
        }
        SCOPED_TRACE(c.name);
        const std::string file = dir_ / c.name;
        ASSERT_TRUE(compress(c.tool, whereby_, file));
        ASSERT_NE(read_file(file).substr(0, 4), read_file(whereby_).substr(0, 4));
        const std::string db = dir_ / (std::string(c.name) + ".sqlite");
        EXPECT_EQ(analyze_ok({file}, db), "");
        EXPECT_EQ(results(db), plain);
        EXPECT_EQ(Db(db, true).integer("SELECT damaged_files FROM run"), 0);
        ++tried;
    }
    if (tried == 0) GTEST_SKIP() << "none of gzip, zstd, xz is installed";
}

TEST_F(Input, DashReadsStandardInputFromAPipeOrAFile) {
    const std::string plain_db = dir_ / "plain.sqlite";
    analyze_ok({whereby_}, plain_db);
    const std::string piped = dir_ / "piped.sqlite", redirected = dir_ / "redirected.sqlite";
    auto r = shell("cat '" + whereby_ + "' | '" + bin_ + "' analyze -q - --db '" + piped + "'");
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    r = shell("'" + bin_ + "' analyze -q - --db '" + redirected + "' < '" + whereby_ + "'");
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    EXPECT_EQ(results(piped), results(plain_db));
    EXPECT_EQ(results(redirected), results(plain_db));
    EXPECT_EQ(Db(piped, true).text("SELECT source FROM run_source"), "-");
    if (executable("/usr/bin/gzip")) {  // compressed on standard input too
        const std::string gz = dir_ / "gz.sqlite";
        r = shell("/usr/bin/gzip -c < '" + whereby_ + "' | '" + bin_ + "' analyze -q - --db '" + gz + "'");
        ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
        EXPECT_EQ(results(gz), results(plain_db));
    }
}

TEST_F(Input, TruncatedGzipIsOneLineNamingTheOffsetAndKeepsWhatWasRead) {
    if (!executable("/usr/bin/gzip")) GTEST_SKIP() << "/usr/bin/gzip is missing";
    const std::string gz = dir_ / "cut.pcap.gz";
    ASSERT_TRUE(compress("/usr/bin/gzip", whereby_, gz));
    const std::string whole = read_file(gz);
    write_file(gz, whole.substr(0, whole.size() * 6 / 10));
    const std::string db = dir_ / "cut.sqlite";
    const auto r = callwall({"analyze", "-q", gz, "--db", db});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << r.err;
    const auto lines = split_lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("callwall: warning: " + gz + ": damaged after ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find("gzip: truncated stream at byte "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find(" of the compressed file"), std::string::npos) << lines[0];
    Db d(db, true);
    EXPECT_EQ(d.integer("SELECT damaged_files FROM run"), 1);
    EXPECT_NE(d.text("SELECT notes FROM run").find("reading stopped after"), std::string::npos);
    EXPECT_EQ(d.text("SELECT status FROM run"), "completed");
    const long long packets = d.integer("SELECT packets FROM run");
    const std::string plain_db = dir_ / "plain.sqlite";
    analyze_ok({whereby_}, plain_db);
    const long long all = Db(plain_db, true).integer("SELECT packets FROM run");
    EXPECT_GT(packets, 0);  // the flows before the damage are kept
    EXPECT_LT(packets, all);
    EXPECT_GT(d.integer("SELECT count(*) FROM flow"), 0);
}

TEST_F(Input, FilterKeepsOnlyMatchingFlowsAndABadOneIsAUsageError) {
    const std::string db = dir_ / "dns.sqlite";
    analyze_ok({whereby_, "--filter", "udp port 53"}, db);
    Db d(db, true);
    EXPECT_GT(d.integer("SELECT count(*) FROM flow"), 0);
    EXPECT_EQ(
        d.integer("SELECT count(*) FROM flow WHERE transport != 'udp' OR (server_port != 53 AND client_port != 53)"),
        0);
    const std::string plain_db = dir_ / "plain.sqlite";
    analyze_ok({whereby_}, plain_db);
    EXPECT_LT(d.integer("SELECT packets FROM run"), Db(plain_db, true).integer("SELECT packets FROM run"));
    EXPECT_GT(Db(plain_db, true).integer("SELECT count(*) FROM flow WHERE transport = 'tcp'"), 0);

    const std::string bad_db = dir_ / "bad.sqlite";
    const auto r = callwall({"analyze", "-q", whereby_, "--filter", "udp port", "--db", bad_db});
    EXPECT_TRUE(r.exit.exited && r.exit.code == kExitUsage) << r.exit.describe() << r.err;
    EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("callwall analyze: --filter: bad filter 'udp port'", 0), 0u) << r.err;
    EXPECT_FALSE(std::filesystem::exists(bad_db));  // nothing touched
}

TEST_F(Input, FilesAreReadByFirstPacketUnlessKeepOrder) {
    const auto parts = split_pcap(whereby_, 3, dir_ / "cap.pcap");
    ASSERT_EQ(parts.size(), 3u);
    const std::string in_order = dir_ / "in_order.sqlite";
    EXPECT_EQ(analyze_ok({parts[0], parts[1], parts[2]}, in_order), "");

    // Given backwards: read by first packet, with the same results and no warning.
    const std::string sorted = dir_ / "sorted.sqlite";
    EXPECT_EQ(analyze_ok({parts[2], parts[0], parts[1]}, sorted), "");
    const std::string pos = "SELECT group_concat(source, ' ') FROM (SELECT source FROM run_source ORDER BY position)";
    const std::string expected = parts[0] + " " + parts[1] + " " + parts[2];
    EXPECT_EQ(Db(sorted, true).text(pos), expected);
    EXPECT_EQ(results(sorted), results(in_order));
    EXPECT_EQ(Db(sorted, true).text("SELECT notes FROM run").find("time runs backwards"), std::string::npos);

    // --keep-order: read as given; time runs backwards twice, said on stderr and in the notes.
    const std::string kept = dir_ / "kept.sqlite";
    const std::string err = analyze_ok({"--keep-order", parts[2], parts[0], parts[1]}, kept);
    EXPECT_EQ(Db(kept, true).text(pos), parts[2] + " " + parts[0] + " " + parts[1]);
    const auto lines = split_lines(err);
    ASSERT_EQ(lines.size(), 1u) << err;  // parts[0] after parts[2]; parts[1] follows parts[0] in time
    EXPECT_EQ(lines[0].rfind("callwall: warning: time runs backwards: " + parts[0] + " starts at ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(", before " + parts[2] + " ended ("), std::string::npos) << lines[0];
    EXPECT_NE(Db(kept, true).text("SELECT notes FROM run").find("time runs backwards: " + parts[0]), std::string::npos);
}

}  // namespace
}  // namespace callwall::robustness
