#!/bin/sh
# The revision the benchmark tables name: the short commit, with
# "+local changes" when the tree differs from it in more than the prose
# (docs/, README.md: where these tables go, which builds the same binary).
# Called by bench/compare.sh and bench/rss_scaling.sh from the repository's top.
rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
[ -z "$(git status --porcelain --untracked-files=no -- . ':!docs' ':!README.md' 2>/dev/null)" ] || rev="$rev+local changes"
echo "$rev"
