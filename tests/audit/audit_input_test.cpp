// The ruleset as the audit reads it: once, through pipes and standard input
// too, bounded in size and time, its includes only from its own directory;
// and the helpers it starts, bounded in time. Hostile files are refused
// before nft ever opens them, and nothing of them is printed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "audit/audit.hpp"
#include "audit/audit_test_util.hpp"
#include "audit/ruleset_input.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit {
namespace {

using namespace audit_test;

robustness::RunResult shell(const std::string& script) { return robustness::run({"/bin/bash", "-c", script}, 180); }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::string audit_cmd(const std::string& flag, const std::string& file, const std::string& db) {
    return std::string(CALLWALL_BINARY) + " audit " + flag + " " + file + " --vendor whereby --no-fix --db " +
           quoted(db);
}

bool no_sandbox(const robustness::RunResult& r) { return r.exit.exited && r.exit.code == 6; }

TEST(AuditInput, IncludesAreFoundOutsideCommentsAndStrings) {
    const std::string t =
        "include \"a.nft\"\n# include \"b.nft\"\ntable inet f {\n\tinclude \"d/*.nft\"\n"
        "\tchain c { comment \"include x\"; }\n}\ndefine include_me = 1\n";
    const auto refs = find_includes(t);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(t.substr(refs[0].offset, refs[0].length), "a.nft");
    EXPECT_EQ(t.substr(refs[1].offset, refs[1].length), "d/*.nft");
}

TEST(AuditInput, ReadsAreBoundedInSizeAndTime) {
    // /dev/zero: the size limit, at once.
    const auto t0 = std::chrono::steady_clock::now();
    const auto zero = read_ruleset_input("/dev/zero", true);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_EQ(zero.error, "cannot read /dev/zero: more than 32 MiB: not a ruleset");
    // A pipe no one writes to: the time limit, and it says so.
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    std::string out, why;
    EXPECT_FALSE(read_bounded(p[0], 1 << 20, 300, out, why));
    EXPECT_NE(why.find("nothing more to read after"), std::string::npos) << why;
    ::close(p[0]);
    ::close(p[1]);
}

TEST(AuditInput, AFifoWithNoWriterIsRefusedNotWaitedFor) {
    robustness::TempDir dir("fifo");
    ASSERT_TRUE(dir.ok());
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    { std::ofstream(dir / "r.nft") << "include \"fifo\"\n"; }
    const auto t0 = std::chrono::steady_clock::now();
    const auto in = read_ruleset_input(dir / "r.nft", true);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_EQ(in.error,
              (dir / "r.nft") + ":1: include \"fifo\": refused: " + (dir / "fifo") + " is not a regular file");
}

TEST(AuditInput, HostileIncludesAreRefusedAndNotPrinted) {
    for (const char* file : {"include_shadow.nft", "include_environ.nft", "include_dev_zero.nft"}) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto in = read_ruleset_input(ruleset(file), true);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << file;
        EXPECT_NE(in.error.find("refused: "), std::string::npos) << file << ": " << in.error;
        EXPECT_NE(in.error.find("is outside the ruleset's directory"), std::string::npos) << in.error;
    }
    // The command: exit 3, the reason, and no line of the file.
    robustness::TempDir dir("hostile");
    ASSERT_TRUE(dir.ok());
    for (const char* file : {"include_shadow.nft", "include_environ.nft"}) {
        const auto r = shell(audit_cmd("--nft", ruleset(file), dir / "a.sqlite"));
        ASSERT_TRUE(r.exit.exited) << r.exit.describe();
        EXPECT_EQ(r.exit.code, 3) << r.err;
        EXPECT_NE(r.err.find("is outside the ruleset's directory"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("root:"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("PATH="), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST(AuditInput, AnIncludeMustBeWorldReadableWhereverTheRulesetSits) {
    // A ruleset kept in /etc (where admins keep it) including /etc/shadow:
    // inside its directory, yet a secret, refused before anything reads it.
    if (::access("/etc/shadow", F_OK) == 0) {
        const auto in =
            ruleset_from_text("include \"/etc/shadow\"\ntable inet f {\n}\n", "nftables.conf", true, "/etc");
        EXPECT_NE(in.error.find("include \"/etc/shadow\": refused: /etc/shadow is not world-readable"),
                  std::string::npos)
            << in.error;
        EXPECT_EQ(in.error.find("root:"), std::string::npos) << in.error;
    }
    // The same for a file of the ruleset's own directory kept secret by its mode.
    robustness::TempDir dir("secretmode");
    ASSERT_TRUE(dir.ok());
    {
        std::ofstream(dir / "keys.nft") << "define SECRET = 1\n";
        std::ofstream(dir / "lan.nft") << "define LAN_NET = 192.168.1.0/24\n";
        std::ofstream(dir / "r.nft") << "include \"lan.nft\"\ninclude \"keys.nft\"\n";
    }
    ASSERT_EQ(::chmod((dir / "keys.nft").c_str(), 0640), 0);
    ASSERT_EQ(::chmod((dir / "lan.nft").c_str(), 0644), 0);
    const auto in = read_ruleset_input(dir / "r.nft", true);
    EXPECT_EQ(in.error, (dir / "r.nft") + ":2: include \"keys.nft\": refused: " + (dir / "keys.nft") +
                            " is not world-readable (a ruleset is; this is kept secret)");
    ASSERT_EQ(::chmod((dir / "keys.nft").c_str(), 0644), 0);
    EXPECT_EQ(read_ruleset_input(dir / "r.nft", true).error, "");
}

TEST(AuditInput, NftNeverQuotesAnIncludedFile) {
    // An included file of the ruleset's own directory that is not a ruleset:
    // nft's complaint names it and its line, never its content.
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    robustness::TempDir dir("notaruleset");
    ASSERT_TRUE(dir.ok());
    {
        std::ofstream(dir / "secrets.txt") << "password-line-one\nanother secret\n";
        std::ofstream(dir / "r.nft") << "table inet filter {\n\tchain forward {\n"
                                        "\t\ttype filter hook forward priority filter;\n"
                                        "\t\tinclude \"secrets.txt\"\n\t}\n}\n";
    }
    AuditOptions opt;
    opt.ruleset_path = dir / "r.nft";
    opt.vendors = {"whereby"};
    const auto r = run_audit(bundled(), opt);
    if (!r.replay.ok && !r.replay.lint_failed) GTEST_SKIP() << "no sandbox: " << r.replay.error;
    ASSERT_TRUE(r.replay.lint_failed);
    EXPECT_NE(r.replay.error.find((dir / "secrets.txt") + ":1:"), std::string::npos) << r.replay.error;
    EXPECT_NE(r.replay.error.find("In file included from " + (dir / "r.nft") + ":4:"), std::string::npos)
        << r.replay.error;
    EXPECT_EQ(r.replay.error.find("password"), std::string::npos) << r.replay.error;
    EXPECT_EQ(r.replay.error.find("another secret"), std::string::npos) << r.replay.error;
    EXPECT_EQ(r.replay.error.find("callwall-audit-"), std::string::npos) << r.replay.error;  // no private path
}

TEST(AuditInput, AnIncludedDirectoryIsAuditedAsNftLoadsIt) {
    AUDIT_OR_SKIP(r, "office_include.nft");
    for (const char* id : {kSig, kTurnTcp, kThird}) expect(r, id, V::Observed, "comment \"web\"");
    expect(r, kTurnUdp, V::Blocked, "rule 'iifname \"lan0\" udp dport 443 reject comment \"no quic\"'");
    expect(r, kHigh, V::Partial, "inet filter forward: policy drop");
    expect_port(r, kHigh, 3478, O::Passed, "comment \"turn\"");
}

// The text output with its wrapped lines joined again (a continuation
// line starts with 13 spaces).
std::string joined(std::string out) {
    for (size_t at = out.find("\n             "); at != std::string::npos; at = out.find("\n             ", at))
        out.replace(at, 14, " ");
    return out;
}

// `--nft <(cat f)`, `cat f | --nft /dev/stdin`, `cat f | --nft -`, and the
// same for --iptables: the bytes of the pipe, read once, are what nft loads.
TEST(AuditInput, APipedRulesetIsAuditedLikeItsFile) {
    if (!have_nft() || !have_iptables_nft()) GTEST_SKIP() << "nft or iptables-nft-restore is missing";
    robustness::TempDir dir("pipe");
    ASSERT_TRUE(dir.ok());
    const std::string nft = quoted(ruleset("policy_drop_allows.nft"));
    const std::string dump = quoted(ruleset("corporate.iptables"));
    const std::string db = dir / "a.sqlite";
    for (const std::string& script :
         {audit_cmd("--nft", "<(cat " + nft + ")", db) + " --fail-on partial",
          "cat " + nft + " | " + audit_cmd("--nft", "/dev/stdin", db) + " --fail-on partial",
          "cat " + nft + " | " + audit_cmd("--nft", "-", db) + " --fail-on partial"}) {
        const auto r = shell(script);
        if (no_sandbox(r)) GTEST_SKIP() << "no sandbox: " << r.err;
        ASSERT_TRUE(r.exit.exited) << r.exit.describe();
        EXPECT_EQ(r.exit.code, 10) << script << "\n" << r.err;  // whereby.turn-sfu-highport.udp is partial
        EXPECT_NE(r.out.find("partial    whereby.turn-sfu-highport.udp"), std::string::npos) << script << r.out;
        EXPECT_NE(joined(r.out).find("by inet filter forward: policy drop"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("no chain decided"), std::string::npos) << r.out;
    }
    for (const std::string& script : {audit_cmd("--iptables", "<(cat " + dump + ")", db),
                                      "cat " + dump + " | " + audit_cmd("--iptables", "-", db)}) {
        const auto r = shell(script + " --fail-on blocked");
        ASSERT_TRUE(r.exit.exited) << r.exit.describe();
        EXPECT_EQ(r.exit.code, 10) << script << "\n" << r.err;
        EXPECT_NE(r.out.find("blocked    whereby.turn.udp"), std::string::npos) << r.out;
        EXPECT_NE(joined(r.out).find("(rule 3 of LAN_OUT)"), std::string::npos) << r.out;
    }
}

TEST(AuditInput, ARulesetWithNoFilteringChainSaysSo) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    robustness::TempDir dir("empty");
    ASSERT_TRUE(dir.ok());
    const std::string db = dir / "a.sqlite";
    const auto empty = shell("printf '' | " + audit_cmd("--nft", "-", db) + " --fail-on blocked");
    if (no_sandbox(empty)) GTEST_SKIP() << "no sandbox: " << empty.err;
    ASSERT_TRUE(empty.exit.exited) << empty.exit.describe();
    EXPECT_EQ(empty.exit.code, 3);
    EXPECT_NE(empty.err.find("standard input (0 bytes) loaded, but it has no filtering chain"), std::string::npos)
        << empty.err;
    EXPECT_EQ(empty.out.find("passes"), std::string::npos) << empty.out;
    const auto nat = shell(audit_cmd("--nft", quoted(ruleset("nat_only.nft")), db));
    ASSERT_TRUE(nat.exit.exited) << nat.exit.describe();
    EXPECT_EQ(nat.exit.code, 3);
    EXPECT_NE(nat.err.find("nat_only.nft ("), std::string::npos) << nat.err;
    EXPECT_NE(nat.err.find("no filtering chain (no base chain of type filter)"), std::string::npos) << nat.err;
}

TEST(AuditInput, TheWrongFormatFlagSaysWhichToUse) {
    robustness::TempDir dir("format");
    ASSERT_TRUE(dir.ok());
    const auto a = shell(audit_cmd("--nft", quoted(ruleset("corporate.iptables")), dir / "a.sqlite"));
    EXPECT_EQ(a.exit.code, 2);
    EXPECT_NE(a.err.find("this is an iptables-save dump"), std::string::npos) << a.err;
    EXPECT_NE(a.err.find("give it as --iptables FILE"), std::string::npos) << a.err;
    const auto b = shell(audit_cmd("--iptables", quoted(ruleset("policy_drop_allows.nft")), dir / "a.sqlite"));
    EXPECT_EQ(b.exit.code, 2);
    EXPECT_NE(b.err.find("give it as --nft FILE"), std::string::npos) << b.err;
    // ip6tables-save's dump under --iptables, iptables-save's under
    // --ip6tables, and both in one file: a one-line hint naming the flag(s),
    // not `invalid mask '48'` from iptables-nft-restore.
    const auto v6 = shell(audit_cmd("--iptables", quoted(ruleset("office.ip6tables")), dir / "a.sqlite"));
    EXPECT_EQ(v6.exit.code, 2);
    EXPECT_NE(v6.err.find("this is an ip6tables-save dump"), std::string::npos) << v6.err;
    EXPECT_NE(v6.err.find("give it as --ip6tables FILE"), std::string::npos) << v6.err;
    EXPECT_EQ(v6.err.find("invalid mask"), std::string::npos) << v6.err;
    EXPECT_EQ(std::count(v6.err.begin(), v6.err.end(), '\n'), 1) << v6.err;
    const auto v4 = shell(audit_cmd("--ip6tables", quoted(ruleset("office_lan_scoped.iptables")), dir / "a.sqlite"));
    EXPECT_EQ(v4.exit.code, 2);
    EXPECT_NE(v4.err.find("not an ip6tables-save dump: give it as --iptables FILE"), std::string::npos) << v4.err;
    for (const char* flag : {"--iptables", "--ip6tables"}) {
        const auto both = shell(audit_cmd(flag, quoted(ruleset("office_both_halves.iptables")), dir / "a.sqlite"));
        EXPECT_EQ(both.exit.code, 2) << flag;
        EXPECT_NE(both.err.find("holds an iptables-save dump and an ip6tables-save dump"), std::string::npos)
            << both.err;
        EXPECT_NE(both.err.find("iptables-save's as --iptables FILE and ip6tables-save's as --ip6tables FILE"),
                  std::string::npos)
            << both.err;
        EXPECT_EQ(std::count(both.err.begin(), both.err.end(), '\n'), 1) << both.err;
    }
    // The IPv4 dump alone is no IPv6 dump.
    EXPECT_TRUE(format_hint(robustness::read_file(ruleset("office_lan_scoped.iptables")), false).empty());
}

TEST(AuditInput, ASlowHelperIsKilledAndNamed) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    // An nft whose check never ends (as on an include of something endless):
    // killed after the helper timeout, and the message says which step.
    robustness::TempDir dir("slow");
    ASSERT_TRUE(dir.ok());
    const std::string fake = dir / "nft";
    {
        std::ofstream f(fake);
        f << "#!/bin/sh\n[ \"$1\" = -c ] && exec sleep 100\nfor d in /usr/sbin /sbin; do [ -x $d/nft ] && exec "
             "$d/nft \"$@\"; done\n";
    }
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    ::setenv("CALLWALL_AUDIT_TOOL_DIR", dir.path().c_str(), 1);
    AuditOptions opt;
    opt.ruleset_path = ruleset("policy_drop_allows.nft");
    opt.vendors = {"whereby"};
    opt.helper_timeout_ms = 1500;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_audit(bundled(), opt);
    ::unsetenv("CALLWALL_AUDIT_TOOL_DIR");
    if (!r.replay.ok && r.replay.error.find("did not finish") == std::string::npos)
        GTEST_SKIP() << "no sandbox: " << r.replay.error;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
    EXPECT_FALSE(r.replay.ok);
    EXPECT_NE(r.replay.error.find("`nft -c -f "), std::string::npos) << r.replay.error;
    EXPECT_NE(r.replay.error.find("did not finish within 1 s (killed)"), std::string::npos) << r.replay.error;
}

// 20,000 rules as a blocklist grows (one source prefix per rule, a few
// port rules): loaded, listed, traced, and audited with real reasons.
TEST(AuditInput, TwentyThousandRulesComplete) {
    if (!have_nft()) GTEST_SKIP() << "nft is not installed";
    robustness::TempDir dir("big");
    ASSERT_TRUE(dir.ok());
    {
        std::ofstream f(dir / "big.nft");
        f << "table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n"
             "\t\tct state established,related accept\n";
        for (int i = 0; i < 20000; ++i)
            f << "\t\tip saddr 10." << (i >> 8) << "." << (i & 255) << ".0/24 drop comment \"blocklist " << i << "\"\n";
        f << "\t\toifname \"wan0\" tcp dport 443 accept comment \"web\"\n"
             "\t\toifname \"wan0\" udp dport 3478 accept comment \"turn\"\n\t}\n}\n";
    }
    AuditOptions opt;
    opt.ruleset_path = dir / "big.nft";
    opt.vendors = {"whereby"};
    const auto r = run_audit(bundled(), opt);
    if (!r.replay.ok && r.replay.error.find("cannot make a sandbox") != std::string::npos)
        GTEST_SKIP() << "no sandbox: " << r.replay.error;
    if (!r.replay.ok && r.replay.too_large && ::geteuid() != 0) {  // a real reason, said
        EXPECT_NE(r.replay.error.find("netlink's buffer; run as root"), std::string::npos) << r.replay.error;
        return;
    }
    ASSERT_TRUE(r.replay.ok) << r.replay.error;
    EXPECT_NE(r.replay.listed.find("blocklist 19999"), std::string::npos);
    expect(r, kSig, V::Observed, "comment \"web\"");
    expect(r, kTurnUdp, V::Blocked, "inet filter forward: policy drop");
    expect_port(r, kHigh, 3478, O::Passed, "comment \"turn\"");
}

}  // namespace
}  // namespace callwall::audit
