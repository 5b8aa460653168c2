// nft reads the user's ruleset in a mount namespace of its own that shows
// the system's programs, a few /etc files and the ruleset's directory only:
// an include of /etc/passwd or /proc/self/environ finds nothing, whatever
// slipped past the checks before it. Run in a forked child that enters the
// sandbox's user and network namespaces; skipped, with the reason, where
// they cannot be made.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "audit/audit_test_util.hpp"
#include "audit/sandbox.hpp"
#include "robustness/robustness_util.hpp"

namespace callwall::audit::confinement_test {
namespace {

namespace sb = audit::sandbox;

// Exit codes of the child: 0 all held, 77 no namespaces here, else the
// first check that failed (its line is on stderr).
int confined_checks(const std::string& dir) {
    std::string mode, error;
    if (!sb::enter_namespaces(true, mode, error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 77;
    }
    sb::Confinement c;
    sb::prepare_confinement(dir, c);
    if (!c.usable) {
        std::fprintf(stderr, "no confinement: %s\n", c.why.c_str());
        sb::remove_confinement(c);
        return c.why.find("refused") != std::string::npos ? 77 : 2;
    }
    int failed = 0;
    auto check = [&](int code, bool ok, const std::string& what, const std::string& out) {
        if (!ok && !failed) {
            std::fprintf(stderr, "%s: %s\n", what.c_str(), out.c_str());
            failed = code;
        }
    };
    std::string out;
    // The ruleset's own directory is there.
    check(3,
          sb::run(-1, {"cat", dir + "/main.nft"}, out, {}, 10000, &c) == 0 &&
              out == "include \"" + dir + "/table.nft\"\n",
          "cat main.nft", out);
    for (const char* hidden : {"/etc/passwd", "/etc/hostname", "/proc/self/environ", "/root", "/home", "/dev/zero"}) {
        out.clear();
        check(4, sb::run(-1, {"cat", hidden}, out, {}, 10000, &c) != 0 && out.find("No such file") != std::string::npos,
              std::string("cat ") + hidden, out);
    }
    // nft itself: the include of /etc/passwd is a missing file, none of its lines is read.
    if (sb::run(-1, {"nft", "--version"}, out) == 0) {
        out.clear();
        const int rc = sb::run(-1, {"nft", "-c", "-f", dir + "/passwd.nft"}, out, {}, 10000, &c);
        check(5,
              rc != 0 && out.find("File not found: /etc/passwd") != std::string::npos &&
                  out.find("root:") == std::string::npos,
              "nft -c -f passwd.nft", out);
        out.clear();
        check(6, sb::run(-1, {"nft", "-c", "-f", dir + "/main.nft"}, out, {}, 10000, &c) == 0, "nft -c -f main.nft",
              out);
    }
    sb::remove_confinement(c);
    check(7, !std::filesystem::exists(c.root.empty() ? dir + "/none" : c.root), "root directory left", "");
    return failed;
}

TEST(AuditConfinement, NftSeesTheRulesetsDirectoryAndTheSystemOnly) {
    robustness::TempDir dir("confine");
    ASSERT_TRUE(dir.ok());
    { std::ofstream(dir / "main.nft") << "include \"" + (dir / "table.nft") + "\"\n"; }
    {
        std::ofstream(dir / "table.nft")
            << "table inet t {\n\tchain c { type filter hook forward priority 0; policy drop; }\n}\n";
    }
    { std::ofstream(dir / "passwd.nft") << "include \"/etc/passwd\"\n"; }
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(confined_checks(dir.path()));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "user or mount namespaces cannot be made here";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "3: the ruleset's directory is missing, 4: a hidden path is visible, "
                                         "5: nft read /etc/passwd, 6: nft refused a good ruleset, 7: root left";
}

}  // namespace
}  // namespace callwall::audit::confinement_test
