// No byte a packet or a catalog file carries reaches the operator's terminal
// raw: names with every C0 control byte, DEL, C1 bytes (raw and as UTF-8),
// 0xff, a bidirectional override, CR LF (a forged report line), a window-title
// and a clear-screen sequence (captures/field/terminal_names.pcap,
// tools/gen_terminal_names.py) go through the text report of `analyze` and
// `report`, `-v`, `report --across-runs`, and catalog files with control
// bytes in their names through the catalog commands: what they print holds
// no control byte but the newline, no C1 or bidirectional control, and is
// valid UTF-8; the hostile names are there, escaped (\x1b). The live view
// (a pseudo-terminal) is tested in tests/live/live_view_pty_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "robustness/cli_test.hpp"
#include "util/terminal_text.hpp"

namespace callwall::robustness {
namespace {

// The first byte offset at which `s` is not what a terminal may be given
// (util::terminal_safe, newlines allowed between lines), or npos.
size_t first_unsafe(const std::string& s) {
    size_t at = 0;
    while (at <= s.size()) {
        size_t end = s.find('\n', at);
        if (end == std::string::npos) end = s.size();
        const std::string_view line(s.data() + at, end - at);
        for (size_t i = 0; i < line.size();) {
            const util::Utf8Step st = util::utf8_step(line, i);
            if (st.length == 0 || util::unsafe_on_terminal(st.code_point)) return at + i;
            i += st.length;
        }
        at = end + 1;
    }
    return std::string::npos;
}

std::string around(const std::string& s, size_t at) {
    const size_t from = at > 60 ? at - 60 : 0;
    return util::terminal_text(s.substr(from, 120));
}

void expect_terminal_safe(const std::string& out, const std::string& what) {
    const size_t bad = first_unsafe(out);
    EXPECT_EQ(bad, std::string::npos) << what << ": raw byte 0x" << std::hex
                                      << (bad < out.size() ? static_cast<int>(static_cast<unsigned char>(out[bad])) : 0)
                                      << " at " << std::dec << bad << ": ..." << around(out, bad) << "...";
}

TEST(TerminalText, EveryByteAloneIsEscapedOrKept) {
    for (int b = 0; b < 256; ++b) {
        const std::string in(1, static_cast<char>(b));
        const std::string out = util::terminal_text(in);
        EXPECT_TRUE(util::terminal_safe(out)) << b;
        if (b >= 0x20 && b < 0x7f)
            EXPECT_EQ(out, in);
        else {
            char want[8];
            std::snprintf(want, sizeof want, "\\x%02x", b);
            EXPECT_EQ(out, want);
        }
    }
}

TEST(TerminalText, ControlsInUtf8AreEscapedAndTextIsKept) {
    EXPECT_EQ(util::terminal_text("caf\xc3\xa9 \xe2\x80\x94 ok"), "caf\xc3\xa9 \xe2\x80\x94 ok");
    EXPECT_EQ(util::terminal_text("a\xc2\x9b"
                                  "2J"),
              "a\\xc2\\x9b2J");  // CSI as U+009B
    EXPECT_EQ(util::terminal_text("a\xe2\x80\xae"
                                  "b"),
              "a\\xe2\\x80\\xaeb");  // RIGHT-TO-LEFT OVERRIDE
    EXPECT_EQ(util::terminal_text("\x1b]0;t\x07"), "\\x1b]0;t\\x07");
    EXPECT_EQ(util::terminal_text("a\xc3"), "a\\xc3");  // a sequence cut short
    EXPECT_EQ(util::terminal_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
    EXPECT_EQ(util::terminal_text("\xc0\xaf"), "\\xc0\\xaf");  // an overlong '/'
    EXPECT_EQ(util::terminal_lines("a\r\nb\x1b\n"), "a\\x0d\nb\\x1b\n");
}

class TerminalNames : public CliTest {
protected:
    TerminalNames() : CliTest("terminal-names") {}
    void SetUp() override {
        CliTest::SetUp();
        if (IsSkipped()) return;
        pcap_ = source_dir() + "/captures/field/terminal_names.pcap";
        ASSERT_TRUE(std::filesystem::exists(pcap_)) << pcap_;
    }
    std::string pcap_;
};

TEST_F(TerminalNames, TextReportVerboseAndAcrossRunsPrintNoRawControlByte) {
    const std::string db = dir_ / "names.sqlite";
    const auto plain = callwall({"analyze", pcap_, "--db", db});
    ASSERT_TRUE(plain.exit.exited && plain.exit.code == 0) << plain.exit.describe() << head(plain.err);
    expect_terminal_safe(plain.out, "analyze");
    // The names are in the report, escaped: the catalog gap lists each.
    for (const char* escaped :
         {"a\\x00z.srv.whereby.com", "a\\x1bz.srv.whereby.com", "a\\x0az.srv.whereby.com", "a\\x7fz.srv.whereby.com",
          "a\\x9bz.srv.whereby.com", "a\\xc2\\x9b2jz.srv.whereby.com", "a\\xffz.srv.whereby.com",
          "a\\xe2\\x80\\xaegnp.srv.whereby.com", "x\\x1b]0;owned\\x07y.srv.whereby.com",
          "x\\x1b[2j\\x1b[hy.srv.whereby.com", "x\\x0d\\x0a"})
        EXPECT_NE(plain.out.find(escaped), std::string::npos) << escaped << "\n" << plain.out;
    // The forged line (names are kept in lower case) never starts a line of its own.
    EXPECT_EQ(plain.out.find("\n  whereby signaling (wss)        tcp 443          blocked"), std::string::npos);
    EXPECT_NE(plain.out.find("x\\x0d\\x0a  whereby signaling (wss)"), std::string::npos);

    const auto verbose = callwall({"analyze", "-v", pcap_, "--db", dir_ / "names-v.sqlite"});
    ASSERT_TRUE(verbose.exit.exited && verbose.exit.code == 0) << verbose.exit.describe() << head(verbose.err);
    expect_terminal_safe(verbose.out, "analyze -v");
    EXPECT_NE(verbose.out.find("srv.whereby.com (sni)"), std::string::npos) << verbose.out;

    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"report", "--db", db}, std::vector<std::string>{"report", "-v", "--db", db},
          std::vector<std::string>{"report", "--db", db, "--vendor", "whereby", "--all"},
          std::vector<std::string>{"report", "--db", db, "--across-runs"}}) {
        const auto r = callwall(args);
        ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << args.back() << ": " << r.exit.describe() << head(r.err);
        expect_terminal_safe(r.out, args[1] + " " + args.back());
        expect_terminal_safe(r.err, args[1] + " " + args.back() + " (stderr)");
    }
}

TEST_F(TerminalNames, DnsNamesKeepTheirBytesInTheEventsAndTheDatabase) {
    // A name with 0xff: U+FFFD in "qname", its bytes in "qname_raw", as an
    // SNI's are ("name_raw"); the database keeps the bytes as sent.
    const std::string db = dir_ / "events.sqlite", events = dir_ / "events.jsonl";
    const auto r = callwall({"analyze", "-q", pcap_, "--db", db, "--events", events});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << head(r.err);
    const std::string lines = read_file(events);
    EXPECT_NE(lines.find("\"qname\":\"a\xef\xbf\xbdz.srv.whereby.com\",\"qname_raw\":\"a\\\\xffz.srv.whereby.com\""),
              std::string::npos)
        << lines.substr(0, 2000);
    Db d(db);
    EXPECT_EQ(d.text("SELECT count(*) FROM flow_name WHERE hex(name) = hex(CAST(X'61ff7a' AS TEXT)) || "
                     "hex('.srv.whereby.com')"),
              "4");  // two connections, each named by its SNI and by the DNS answer
}

TEST_F(TerminalNames, EveryRecordExportedInEveryFormatIsTerminalSafe) {
    // `export` writes the stored names (bytes as sent) through each writer:
    // every record of the run, in CSV and JSON Lines, holds no raw control
    // byte and is valid UTF-8; the hostile names are there, escaped.
    const std::string db = dir_ / "export.sqlite";
    const auto r = callwall({"analyze", "-q", "--detail", pcap_, "--db", db});
    ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.exit.describe() << head(r.err);
    std::string all;
    for (const char* record : {"run", "flow", "flow_name", "dns_answer", "dns_query", "dns_name", "tls_hello",
                               "stun_message", "rtp_stream", "icmp_error", "catalog_entry", "flow_match", "verdict",
                               "product_verdict", "run_source", "allow_list", "unmatched_flow"})
        for (const char* format : {"csv", "jsonl"}) {
            const auto e = callwall({"export", "--db", db, "--record", record, "--format", format});
            ASSERT_TRUE(e.exit.exited && e.exit.code == 0)
                << record << " " << format << ": " << e.exit.describe() << head(e.err);
            expect_terminal_safe(e.out, std::string("export ") + record + " " + format);
            all += e.out;
        }
    for (const char* escaped : {"a\\x1bz.srv.whereby.com", "x\\x1b]0;owned\\x07y.srv.whereby.com",
                                "a\\xe2\\x80\\xaegnp.srv.whereby.com", "x\\x0d\\x0a"})
        EXPECT_NE(all.find(escaped), std::string::npos) << escaped;
}

TEST_F(TerminalNames, CatalogNamesWithControlBytesAreRefusedAndEchoedEscaped) {
    // A vendor, a service and a section name, each with a byte a terminal
    // acts on; TOML escapes let the file carry them.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"vendor = \"Evil\\u001b]0;owned\\u0007\"", "\\x1b]0;owned\\x07"},
        {"vendor = \"Evil\\nvendor\"", "\\x0a"},
        {"vendor = \"Evil\\u0000cut\"", "\\x00"},
        {"vendor = \"Evil\\u009b2J\"", "\\xc2\\x9b"},
        {"vendor = \"Evil\\u202egnp\"", "\\xe2\\x80\\xae"},
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::string dir = dir_ / ("cat" + std::to_string(i));
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/evil.toml")
            << "schema = 2\n[document]\ntitle = \"T\"\nurl = \"https://t.example/\"\nundated = true\ntranscribed = 2026-11-27\n"
            << cases[i].first
            << "\ndirection = \"outbound\"\n\n[[entry]]\nid = \"evil.a.tcp\"\n"
               "product = \"Evil\"\nservice = \"Signal\\u001b[2J\"\ntransport = \"tcp\"\n"
               "ports = [443]\ndestinations = [\"*.evil.example\"]\nrequired = true\n"
               "[entry.source]\nsection = \"Ports\\r\\nforged\"\n";
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"catalog", "check", "--no-bundled-catalog", dir},
              std::vector<std::string>{"catalog", "list", "--no-bundled-catalog", "--catalog", dir},
              std::vector<std::string>{"analyze", "-q", pcap_, "--db", dir + "/x.sqlite", "--catalog", dir}}) {
            const auto r = callwall(args);
            EXPECT_TRUE(r.exit.exited && r.exit.code == 4)
                << args[1] << " " << i << ": " << r.exit.describe() << head(r.err);
            expect_terminal_safe(r.out, args[1] + " (stdout)");
            expect_terminal_safe(r.err, args[1] + " (stderr)");
            EXPECT_NE(r.err.find("control character"), std::string::npos) << r.err;
            EXPECT_NE(r.err.find(cases[i].second), std::string::npos) << cases[i].second << "\n" << r.err;
        }
    }
}

TEST_F(TerminalNames, TheBundledCatalogsTextIsTerminalSafe) {
    const auto list = callwall({"catalog", "list"});
    ASSERT_TRUE(list.exit.exited && list.exit.code == 0) << head(list.err);
    expect_terminal_safe(list.out, "catalog list");
    const auto show = callwall({"catalog", "show", "whereby.turn.udp"});
    ASSERT_TRUE(show.exit.exited && show.exit.code == 0) << head(show.err);
    expect_terminal_safe(show.out, "catalog show");
}

}  // namespace
}  // namespace callwall::robustness
