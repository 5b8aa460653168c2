// What nft's refusal says about the sandbox's kernel rather than the
// ruleset (no I/O): a statement the kernel has no support for (a flowtable,
// a queue rule) fails with "Could not process rule: No such file or
// directory" at that statement. Such a refusal is the sandbox's limit (exit 6,
// naming the feature), never the ruleset's fault; a flowtable, which only
// offloads flows conntrack already established, can be left out and the
// rest audited.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace callwall::audit {

/// A feature the kernel lacks, as one of nft's errors shows it.
struct MissingFeature {
    std::string feature;  ///< "flowtables (nf_flow_table)", "queue (nfnetlink_queue)"
    std::string where;  ///< "FILE:LINE" as nft named it
    std::string statement;  ///< the statement nft underlined ("flow add @f")
    bool can_leave_out = false;  ///< the audit stays true without it (a flowtable)
};

/// The kernel features nft's output (of `nft -c -f` or `nft -f`) says are
/// missing. Empty when any error in it is not one (a real mistake of the
/// ruleset stays the ruleset's: exit 3).
[[nodiscard]] std::vector<MissingFeature> missing_features(std::string_view nft_output);

/// Ruleset text with its flowtables left out, handles kept: each
/// `flowtable NAME { ... }` becomes an empty named set (a table numbers its
/// chains, sets, flowtables and rules from one counter, so every later
/// rule keeps its handle) and each `flow add @NAME` / `flow offload @NAME`
/// statement becomes `counter` (the rule stays, with its verdict). Lines
/// are kept, so nft's line numbers stay the file's.
[[nodiscard]] std::string without_flowtables(std::string_view text);

/// "flowtables (nf_flow_table) at FILE:LINE ('flow add @f')" for a list.
[[nodiscard]] std::string features_text(const std::vector<MissingFeature>& missing);

}  // namespace callwall::audit
