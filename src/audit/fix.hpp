// The fix of an audit: for each requirement the ruleset blocks, the rule
// `callwall catalog export` writes for it, limited to the ports that failed
// and placed just before the rule that stopped them (or at the end of the
// chain whose policy did); a conntrack accept at the top of a chain that
// stopped the answers. Then the audit runs again on the ruleset with those
// rules added, in a new sandbox, and says whether they make it pass — again,
// up to three rounds, when a second chain stops what the first let through.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.hpp"

namespace callwall::audit {

struct FixRule {
    std::string entry_id;  ///< the requirement it is for; empty for a conntrack rule that serves several
    std::string where;  ///< "inet filter forward, before rule 'udp dport 443 reject' (handle 7)"
    std::string rule;  ///< what to add, as the user writes it (an nft command, or an iptables-save line)
};

struct Fix {
    std::vector<std::string> declarations;  ///< nft: the address sets the rules use (`add set ...`)
    std::vector<FixRule> rules;
    std::vector<std::string> unfixable;  ///< "ID: why no rule is proposed"
    /// "ID: ..." for each of the admin's own accepts that an earlier drop
    /// shadows (moving the accept above it is the one-line fix).
    std::vector<std::string> shadowed;
    int rounds = 0;  ///< re-runs made
    bool verified = false;  ///< a re-run ran (false: no rule to try, or the sandbox failed)
    std::string rerun_error;  ///< why the last re-run failed
    AuditResult rerun;  ///< the last re-run
    std::vector<std::string> still_failing;  ///< "ID: verdict (why)" after the last re-run
    std::string user_text;  ///< nft: the commands to load after the ruleset; iptables: the patched dump
    std::string test_text;  ///< the same as the re-run loaded it (the vendors' sets filled with their stand-ins)
};

/// Proposes the fix for what `first` found blocked or partial and re-runs
/// the audit with it (at most `max_rounds` times). No rule is proposed when
/// nothing failed.
[[nodiscard]] Fix fix_and_verify(const catalog::Catalog& c, const AuditOptions& opt, const AuditResult& first,
                                 int max_rounds = 3);

/// `dump` (iptables-save text) with `line` added to chain `chain` of table
/// `table` ("ip filter"): before its rule number `position` (1-based), or
/// after its last rule when `position` is 0 (before the table's COMMIT when
/// the chain has no rule). Unchanged when the table is not in the dump.
[[nodiscard]] std::string insert_iptables_line(std::string_view dump, std::string_view table, std::string_view chain,
                                               int position, std::string_view line);

}  // namespace callwall::audit
