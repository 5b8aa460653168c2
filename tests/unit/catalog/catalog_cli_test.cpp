// `callwall catalog ...` end to end: runs the binary named by CALLWALL_BINARY.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "unit/corpus.hpp"

namespace {

struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

CommandResult run(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

#ifdef CALLWALL_BINARY
const std::string kBinary = CALLWALL_BINARY;
#else
const std::string kBinary;
#endif

class CatalogCli : public ::testing::Test {
protected:
    void SetUp() override {
        if (kBinary.empty()) GTEST_SKIP() << "CALLWALL_BINARY not defined";
        if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " not built";
        dir_ =
            std::filesystem::temp_directory_path() / ("callwall_catalog_cli_" + std::to_string(::getpid()) + "_" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }
    // The bundled catalog as installed: every vendor (the test process itself
    // points CALLWALL_CATALOG_DIR at the seed vendors).
    std::string catalog(const std::string& args) {
        return "CALLWALL_CATALOG_DIR=" + shell_quote(callwall::test::full_catalog_dir()) + " " + shell_quote(kBinary) +
               " catalog " + args;
    }
    std::filesystem::path write(const std::string& name, const std::string& text) {
        const auto p = dir_ / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    std::filesystem::path dir_;
};

// Four errors in one file, on lines 7, 12, 13 and 15, plus a clean file beside it.
constexpr const char* kBroken =
    "schema = 1\n"  // 1
    "[document]\n"  // 2
    "vendor = \"Example\"\n"  // 3
    "sources = [\"example.txt\"]\n"  // 4
    "[[entry]]\n"  // 5
    "id = \"example.media\"\n"  // 6
    "prodcut = \"Example SDK\"\n"  // 7: unknown key (and so product is missing)
    "service = \"Media\"\n"  // 8
    "transport = \"udp\"\n"  // 9
    "required = true\n"  // 10
    "source = { file = \"example.txt\", section = \"Ports\" }\n"  // 11
    "ports = [0, [6000, 5866]]\n"  // 12: port 0, reversed range
    "destinations = [\"*bad.example.com\"]\n"  // 13: malformed pattern
    "[[entry]]\n"  // 14
    "id = \"agora-2020.rtc-web.tcp\"\n"  // 15: duplicate of a bundled id
    "product = \"Example SDK\"\n"
    "service = \"Signal\"\n"
    "transport = \"tcp\"\n"
    "ports = [443]\n"
    "destinations = [\".example.com\"]\n"
    "required = true\n"
    "source = { file = \"example.txt\", section = \"Ports\" }\n";

constexpr const char* kClean =
    "schema = 1\n[document]\nvendor = \"Other\"\nsources = [\"other.txt\"]\n[[entry]]\nid = \"other.signal\"\n"
    "product = \"Other SDK\"\nservice = \"Signal\"\ntransport = \"tcp\"\nports = [443]\n"
    "destinations = [\"*.other.example\"]\nrequired = true\nsource = { file = \"other.txt\", section = \"Ports\" }\n";

TEST_F(CatalogCli, CheckBundledCatalogIsClean) {
    const CommandResult r = run(catalog("check"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("catalog OK: 20 files, 127 entries, 6 products"), std::string::npos) << r.output;
}

TEST_F(CatalogCli, CheckBrokenDirectoryListsEveryErrorAndFails) {
    const std::string broken = write("broken.toml", kBroken).string();
    write("clean.toml", kClean);
    const CommandResult r = run(catalog("check " + shell_quote(dir_.string())));
    EXPECT_EQ(r.exit_code, 4) << r.output;
    const std::vector<std::string> expected = {
        broken + ":5:1: error: missing key 'product' in [[entry]] 'example.media'; expected a string",
        broken + ":7:1: error: unknown key 'prodcut' in [[entry]] 'example.media'; expected one of:",
        broken + ":12:10: error: port 0 is out of range; expected an integer from 1 to 65535",
        broken + ":12:13: error: reversed port range [6000, 5866]; expected [low, high] with low <= high",
        broken + ":13:17: error: malformed destination '*bad.example.com': '*' must be the whole leftmost label",
        broken + ":14:1: error: duplicate id 'agora-2020.rtc-web.tcp'; the bundled catalog defines it at ",
    };
    size_t last = 0;
    for (const std::string& e : expected) {
        const size_t at = r.output.find(e);
        EXPECT_NE(at, std::string::npos) << "missing: " << e << "\n--- output:\n" << r.output;
        if (at != std::string::npos) {
            EXPECT_GE(at, last) << "out of order: " << e;
            last = at;
        }
    }
    EXPECT_NE(r.output.find("6 errors; the catalog is invalid"), std::string::npos) << r.output;
    // Every error line has file:line:column.
    size_t error_lines = 0;
    for (size_t pos = 0; (pos = r.output.find(": error: ", pos)) != std::string::npos; ++pos) ++error_lines;
    EXPECT_EQ(error_lines, 6u) << r.output;
}

TEST_F(CatalogCli, CheckWithoutBundledChecksTheDirectoryAlone) {
    write("broken.toml", kBroken);
    const CommandResult r = run(catalog("check --no-bundled " + shell_quote(dir_.string())));
    EXPECT_EQ(r.exit_code, 4);
    // Without the bundled catalog the id is no longer a duplicate.
    EXPECT_EQ(r.output.find("duplicate id"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("5 errors"), std::string::npos) << r.output;
}

TEST_F(CatalogCli, UserDirectoryAddsVendors) {
    write("clean.toml", kClean);
    const CommandResult r =
        run(catalog("list --format json --catalog " + shell_quote(dir_.string()) + " --vendor other"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("\"id\":\"other.signal\""), std::string::npos) << r.output;
    const CommandResult check = run(catalog("check --catalog " + shell_quote(dir_.string())));
    EXPECT_EQ(check.exit_code, 0) << check.output;
    EXPECT_NE(check.output.find("21 files, 128 entries"), std::string::npos) << check.output;
}

TEST_F(CatalogCli, ListShowAndUsageErrors) {
    CommandResult r = run(catalog("list"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("NOT ALLOW-LISTABLE: RTC Native SDK"), std::string::npos);
    r = run(catalog("list --format json --vendor Sendbird"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.output.front(), '[');
    EXPECT_NE(r.output.find("\"id\":\"sendbird-calls.p2p-stun.udp\""), std::string::npos);
    EXPECT_EQ(r.output.find("agora"), std::string::npos);
    r = run(catalog("show agora-2018.recording.udp-downstream"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("lowUdpPort..highUdpPort"), std::string::npos);
    EXPECT_EQ(run(catalog("show no.such.id")).exit_code, 2);
    EXPECT_EQ(run(catalog("")).exit_code, 2);
    EXPECT_EQ(run(catalog("frobnicate")).exit_code, 2);
    EXPECT_EQ(run(catalog("list --format yaml")).exit_code, 2);
    EXPECT_EQ(run(catalog("export --format pf")).exit_code, 2);
    EXPECT_EQ(run(catalog("list --vendor nobody")).exit_code, 2);
    EXPECT_EQ(run(catalog("list --bogus")).exit_code, 2);
    EXPECT_EQ(run(catalog("export --nft-table 'bad name'")).exit_code, 2);
    EXPECT_EQ(run(catalog("--help")).exit_code, 0);
}

// One command line: a usage error is one line in the form every command uses,
// the bundled catalog is left out with the same option as for analyze and
// capture (the earlier --no-bundled still works), --version after any command.
TEST_F(CatalogCli, OneToolAcrossCommands) {
    CommandResult r = run(catalog("frobnicate"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.output,
              "callwall catalog: unknown command 'frobnicate'; expected list, show, check, export or import "
              "(try 'callwall catalog --help')\n");
    write("broken.toml", kBroken);
    for (const char* flag : {"--no-bundled-catalog", "--no-bundled"}) {
        r = run(catalog(std::string("check ") + flag + " " + shell_quote(dir_.string())));
        EXPECT_EQ(r.exit_code, 4) << flag;
        EXPECT_EQ(r.output.find("duplicate id"), std::string::npos) << flag << ": " << r.output;
    }
    // Each catalog subcommand has a help of its own, with an example; options show value names.
    std::set<std::string> helps;
    for (const char* sub : {"list", "show", "check", "export"}) {
        r = run(catalog(std::string(sub) + " --help"));
        EXPECT_EQ(r.exit_code, 0) << sub;
        EXPECT_EQ(r.output.rfind(std::string("usage: callwall catalog ") + sub, 0), 0u) << r.output;
        EXPECT_NE(r.output.find("example: callwall catalog " + std::string(sub)), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find(" arg "), std::string::npos) << r.output;
        helps.insert(r.output);
    }
    EXPECT_EQ(helps.size(), 4u);
    for (const char* cmd : {"analyze", "capture", "report"}) {
        r = run(kBinary + " " + cmd + " --help");
        EXPECT_NE(r.output.find("examples:\n  callwall " + std::string(cmd)), std::string::npos) << r.output;
    }
    for (const char* cmd : {"analyze", "capture", "report", "catalog"}) {
        r = run(kBinary + " " + cmd + " --version");
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_EQ(r.output.rfind("callwall ", 0), 0u) << cmd << ": " << r.output;
        EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << cmd << ": " << r.output;
    }
}

TEST_F(CatalogCli, InvalidCatalogStopsOtherCommandsToo) {
    write("broken.toml", kBroken);
    const CommandResult r = run(catalog("list --catalog " + shell_quote(dir_.string())));
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.output.find("broken.toml:12:10: error: port 0"), std::string::npos) << r.output;
}

TEST_F(CatalogCli, ExportNftPassesNftCheck) {
    const CommandResult probe =
        run("printf 'table inet callwall_probe {\\n chain c {\\n  tcp dport 1 accept\\n }\\n}\\n' | nft -c -f -");
    if (probe.exit_code != 0) GTEST_SKIP() << "nft missing or not permitted: " << probe.output;
    CommandResult r = run(catalog("export --format nft") + " | nft -c -f -");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = run(catalog("export --format nft --vendor whereby --nft-table filter") + " | nft -c -f -");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = run(catalog("export --format nft --product 'Recording SDK'"));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("chain callwall_inbound"), std::string::npos);
    EXPECT_NE(r.output.find("40000-41000"), std::string::npos);
}

TEST_F(CatalogCli, ExportIptables) {
    CommandResult r = run(catalog("export --format iptables --vendor Sendbird"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("--dports 1024:65535"), std::string::npos) << r.output;
    r = run(catalog("export --format iptables --vendor Sendbird --include-any"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("*filter\n"), std::string::npos);
    EXPECT_NE(r.output.find("-A CALLWALL-OUTBOUND -p udp -m multiport --dports 1024:65535 -m comment --comment "
                            "\"sendbird-calls.p2p-stun.udp\" -j ACCEPT"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("COMMIT\n"), std::string::npos);
}

TEST_F(CatalogCli, ExportOptionsOfIssue16) {
    CommandResult r = run(catalog("export --format dnsmasq-nftset --vendor Whereby --nft-table fw"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("\nnftset=/turn.whereby.com/4#inet#fw#callwall_whereby_v4,6#inet#fw#callwall_whereby_v6\n"),
              std::string::npos)
        << r.output;
    r = run(catalog("export --format dnsmasq-ipset --vendor Whereby"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("\nipset=/turn.whereby.com/callwall_whereby_v4,callwall_whereby_v6\n"), std::string::npos);
    r = run(catalog("export --vendor Sendbird --required-only --include-any"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("#   sendbird-calls.p2p-stun.udp: optional (--required-only)\n"), std::string::npos)
        << r.output;
    EXPECT_EQ(run(catalog("export --format dnsmasq")).exit_code, 2);
}

// A wrong --edition lists the editions the vendor has (as a wrong --product
// lists the products); with an unknown vendor, every edition and its vendor.
TEST_F(CatalogCli, WrongEditionListsTheEditionsThatExist) {
    const callwall::catalog::Catalog& full = callwall::test::full_bundled_catalog();
    CommandResult r = run(catalog("list --vendor 'GoTo Meeting' --edition 'GoTo app 9'"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("editions of 'GoTo Meeting':"), std::string::npos) << r.output;
    size_t named = 0;
    for (const callwall::catalog::Document& d : full.documents()) {
        if (d.vendor != "GoTo Meeting") continue;
        EXPECT_NE(r.output.find("'" + d.edition + "'"), std::string::npos) << d.edition << "\n" << r.output;
        ++named;
    }
    EXPECT_GE(named, 1u);
    EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;  // one line
    r = run(catalog("export --vendor nobody --edition 2018"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("known editions: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("'2018' of Agora"), std::string::npos) << r.output;
}

TEST_F(CatalogCli, ListGivesEachFilesDateAndAge) {
    const CommandResult r = run(catalog("list --vendor whereby"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Catalog files: what dates each, and its age on "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("whereby.toml"), std::string::npos);
    EXPECT_NE(r.output.find(" old)\n"), std::string::npos) << r.output;  // "1 day old", "256 days old"
}

TEST_F(CatalogCli, ImportCidrList) {
    const auto list = write("ranges.txt", "# Example ranges\n192.0.2.0/24\n\n2001:db8::/32\n");
    const std::string args = "import --format cidr-list " + shell_quote(list.string()) +
                             " --vendor Example --url https://example.com/fw --ports udp:3478,8801-8810 "
                             "--ports tcp:443 --page-date 2026-03-16 --transcribed 2026-11-27";
    CommandResult r = run(catalog(args + " -o " + shell_quote((dir_ / "example.toml").string())));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("2 entries written"), std::string::npos) << r.output;
    r = run(catalog("check --no-bundled-catalog " + shell_quote(dir_.string())));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = run(catalog("list --no-bundled-catalog --catalog " + shell_quote(dir_.string())));
    EXPECT_NE(r.output.find("== Example (page dated 2026-03-16, "), std::string::npos) << r.output;
    // A bad line: FILE:LINE: error, one line, exit 4; nothing written.
    const auto bad = write("bad.txt", "192.0.2.0/24\n# fine\nnot-a-prefix\n");
    r = run(catalog("import --format cidr-list " + shell_quote(bad.string()) +
                    " --vendor Example --url https://example.com/fw --ports udp:3478"));
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_NE(r.output.find(bad.string() + ":3: error: 'not-a-prefix' is not a prefix"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;
    // What the list cannot say is a usage error.
    EXPECT_EQ(run(catalog("import --format cidr-list " + shell_quote(list.string()) + " --vendor Example")).exit_code,
              2);
    EXPECT_EQ(run(catalog("import --format csv " + shell_quote(list.string()))).exit_code, 2);
}

// The iptables export is one script: the ipsets are created by it, not
// left as comments for the admin.
TEST_F(CatalogCli, ExportIptablesIsAScriptThatCreatesItsSets) {
    const CommandResult r = run(catalog("export --format iptables --vendor Whereby"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(r.output.starts_with("#!/bin/sh\n")) << r.output;
    EXPECT_NE(r.output.find("\nipset -exist restore <<'CALLWALL_IPSETS'\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("\ncreate callwall_whereby_v4 hash:ip family inet\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("\ncallwall_rules | iptables-restore --noflush\n"
                            "callwall_rules | ip6tables-restore --noflush\n"),
              std::string::npos);
    EXPECT_EQ(r.output.find("#  ipset"), std::string::npos);
    EXPECT_NE(r.output.find("#  sh FILE\n"), std::string::npos);
    if (::system("command -v sh >/dev/null 2>&1") == 0) {
        const auto script = write("whereby.sh", r.output);
        const CommandResult syntax = run("sh -n " + shell_quote(script.string()));
        EXPECT_EQ(syntax.exit_code, 0) << syntax.output;
    }
}

}  // namespace
