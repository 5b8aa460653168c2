// Runs inside a callwall HTML report (see cdp_check.py). Arguments: the
// stored outcome of every flow of the run by flow id, the number of flows
// counted per catalog entry, and facts of the run from its database (origin,
// the catalog-gap flows and their groups). Returns {failures: [...], summary}.
function (outcomes, counts, run) {
  const failures = [];
  const fail = (m) => failures.push(m);
  const isBlocked = (o) => o === "blocked" || (o || "").startsWith("blocked:");
  const words = (el) => el.textContent.replace(/\s+/g, " ").trim();
  // Text of an element without its <title> tooltips.
  const ownText = (el) => {
    const c = el.cloneNode(true);
    c.querySelectorAll("title").forEach((t) => t.remove());
    return words(c);
  };
  const badgeWord = (b) => {
    const c = b.cloneNode(true);
    c.querySelectorAll(".glyph").forEach((g) => g.remove());
    return words(c);
  };
  const svg = document.querySelector("svg.timeline");

  // Reference colours: the glossary's "blocked" verdict badge, the legend's
  // "flow blocked" swatch, and their "observed" counterparts.
  const glossaryBadge = (w) =>
    [...document.querySelectorAll("dl.glossary .badge")].find((b) => badgeWord(b) === w);
  const legendSwatch = (w) => {
    if (!svg) return null;
    const t = [...svg.querySelectorAll("text")].find((t) => words(t) === w);
    return t && t.previousElementSibling && t.previousElementSibling.tagName === "rect"
      ? t.previousElementSibling : null;
  };
  const badBadge = glossaryBadge("blocked"), okBadge = glossaryBadge("observed");
  if (!badBadge || !okBadge) fail("no blocked/observed verdict badge in the glossary to take colours from");
  const badColour = badBadge && getComputedStyle(badBadge).color;
  const okColour = okBadge && getComputedStyle(okBadge).color;
  if (badColour && badColour === okColour) fail("blocked and observed badges have the same colour " + badColour);

  // Timeline bars: the flow id is in the bar's tooltip.
  const bars = svg ? [...svg.querySelectorAll("rect")].filter((r) => {
    const t = r.querySelector("title");
    return t && /^flow \d+:/.test(t.textContent);
  }) : [];
  const legendBad = legendSwatch("flow blocked"), legendOk = legendSwatch("flow observed");
  if (bars.length && (!legendBad || !legendOk)) fail("timeline legend lacks 'flow blocked' or 'flow observed'");
  const badFill = legendBad && getComputedStyle(legendBad).fill;
  const okFill = legendOk && getComputedStyle(legendOk).fill;
  let barsBlocked = 0;
  const neutralSeen = new Set();
  for (const r of bars) {
    const id = r.querySelector("title").textContent.match(/^flow (\d+):/)[1];
    const o = outcomes[id];
    if (o === undefined) { fail(`bar of flow ${id}: no such flow in the database`); continue; }
    const fill = getComputedStyle(r).fill;
    if (isBlocked(o)) {
      ++barsBlocked;
      if (fill !== badFill) fail(`bar of flow ${id} (outcome "${o}") is ${fill}, not the blocked colour ${badFill}`);
    } else if (fill === badFill) {
      fail(`bar of flow ${id} (outcome "${o}") has the blocked colour`);
    } else if (o !== "observed") {
      if (fill === okFill) fail(`bar of flow ${id} (outcome "${o}") has the observed colour`);
      neutralSeen.add((o || "").split(":")[0] || "inconclusive");
    }
  }
  // Outcomes neither blocked nor observed need their own legend entry.
  for (const w of neutralSeen)
    if (!legendSwatch("flow " + w)) fail(`bars of outcome "${w}" are drawn but the legend has no "flow ${w}"`);

  // Outcome badges of flows: evidence tables (flow id first) and catalog gaps (flow id last).
  const flowBadges = [];
  document.querySelectorAll("details.evidence tbody tr").forEach((tr) => {
    const b = tr.querySelector(".badge");
    if (b && tr.cells.length) flowBadges.push([words(tr.cells[0]), b]);
  });
  // Catalog gaps are grouped (vendor, name, transport, port): each outcome
  // badge names the flows it stands for; together they are every gap flow.
  const gapIds = [];
  document.querySelectorAll("section.gaps [data-flows]").forEach((s) => {
    const b = s.querySelector(".badge");
    for (const id of s.getAttribute("data-flows").split(" ")) {
      gapIds.push(id);
      if (b) flowBadges.push([id, b]);
    }
  });
  const gapRows = document.querySelectorAll("section.gaps tbody tr").length;
  const wantGaps = [...run.gap_flows].map(String).sort().join(" ");
  if (gapIds.slice().sort().join(" ") !== wantGaps)
    fail(`catalog gaps: the page's badges stand for ${gapIds.length} flow(s), the database has ${run.gap_flows.length}`);
  if (gapRows !== run.gap_groups)
    fail(`catalog gaps: ${gapRows} row(s), the database's flows make ${run.gap_groups} group(s) by vendor, name, port`);
  let badgesBlocked = 0;
  for (const [id, b] of flowBadges) {
    const o = outcomes[id];
    if (o === undefined) { fail(`badge of flow ${id}: no such flow in the database`); continue; }
    const c = getComputedStyle(b).color;
    if (isBlocked(o)) {
      ++badgesBlocked;
      if (c !== badColour) fail(`badge of flow ${id} (outcome "${o}") is ${c}, not the blocked colour ${badColour}`);
    } else if (c === badColour) {
      fail(`badge of flow ${id} (outcome "${o}") has the blocked colour`);
    }
  }
  // Every badge that says "blocked" is blocked-coloured.
  document.querySelectorAll(".badge").forEach((b) => {
    if (/^(\d+ )?blocked\b/.test(badgeWord(b)) && getComputedStyle(b).color !== badColour)
      fail(`badge "${badgeWord(b)}" is ${getComputedStyle(b).color}, not ${badColour}`);
  });

  // Nothing wider than the viewport, except inside a sideways-scrolling container.
  const de = document.documentElement;
  const vw = de.clientWidth;
  if (de.scrollWidth > vw) fail(`the page scrolls sideways: scrollWidth ${de.scrollWidth} > clientWidth ${vw}`);
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== de; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === "auto" || ox === "scroll") return true;
    }
    return false;
  };
  let wide = 0;
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.right > vw + 1 || r.left < -1) && !scrolls(el)) {
      if (++wide <= 8) {
        const what = el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined && el.className
          ? "." + String(el.className).split(" ").join(".") : "");
        fail(`<${what}> spans ${Math.round(r.left)}..${Math.round(r.right)} px, outside the ${vw} px viewport: ` +
             `"${words(el).slice(0, 60)}"`);
      }
    }
  }
  if (wide > 8) fail(`... ${wide - 8} more elements outside the viewport`);
  // The run facts stay readable: no name or value squeezed under 4em.
  document.querySelectorAll(".facts dt, .facts dd").forEach((el) => {
    const r = el.getBoundingClientRect(), em = parseFloat(getComputedStyle(el).fontSize);
    if (words(el) && r.width < 4 * em)
      fail(`run fact "${words(el).slice(0, 40)}" squeezed to ${Math.round(r.width)} px`);
  });

  // The answer comes before the run's metadata; a merged run says where it
  // came from, above the answer.
  const answer = document.getElementById("answer"), facts = document.querySelector(".facts");
  if (!answer) fail("no answer section (#answer)");
  else if (facts && !(answer.compareDocumentPosition(facts) & Node.DOCUMENT_POSITION_FOLLOWING))
    fail("the run's metadata comes before the answer");
  const merged = document.getElementById("merged-from");
  if (run.origin) {
    if (!merged || !words(merged).includes(run.origin)) fail(`merged run: no "Merged from ${run.origin}" line`);
    else if (answer && !(merged.compareDocumentPosition(answer) & Node.DOCUMENT_POSITION_FOLLOWING))
      fail("the merged-from line comes after the answer");
  } else if (merged) fail("a run not merged says it was merged");

  // Every verdict cell is on screen without scrolling sideways.
  document.querySelectorAll("table.verdicts td.verdict").forEach((td) => {
    const r = td.getBoundingClientRect();
    if (r.right > vw + 1 || r.left < -1)
      fail(`verdict "${words(td)}" at ${Math.round(r.left)}..${Math.round(r.right)} px, off the ${vw} px screen`);
  });

  // A clipped lane label shows whole words of its full text.
  if (svg)
    svg.querySelectorAll("text[data-full1]").forEach((t) => {
      const line1 = [...t.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("");
      const lines = [[line1, t.getAttribute("data-full1")], [t.querySelector("tspan") ? t.querySelector("tspan").textContent : "",
                                                              t.getAttribute("data-full2")]];
      for (const [s, full] of lines) {
        const cut = s.indexOf(" \u2026 ");
        if (cut < 0) continue;
        const head = s.slice(0, cut), tail = s.slice(cut + 3);
        // A word ends at a space or after a comma (port lists).
        const endsWord = (i) => full[i] === " " || full[i - 1] === ",";
        const startsWord = (i) => full[i - 1] === " " || full[i - 1] === ",";
        const ok = full.startsWith(head) && endsWord(head.length) && full.endsWith(tail) &&
                   startsWord(full.length - tail.length);
        if (!ok) fail(`lane label "${s}" cuts a word of "${full}"`);
      }
    });

  // Lane labels: distinct, each with the full label as a tooltip.
  const labels = svg ? [...svg.querySelectorAll('a[href^="#r"]')] : [];
  const seen = new Map();
  for (const a of labels) {
    const t = ownText(a);
    if (seen.has(t)) fail(`lanes ${seen.get(t)} and ${a.getAttribute("href")} have the same label "${t}"`);
    else seen.set(t, a.getAttribute("href"));
    const tip = a.querySelector("title") || a.closest("[title]");
    if (!tip || !(tip.textContent || tip.getAttribute("title"))) fail(`lane ${a.getAttribute("href")} has no tooltip`);
  }

  // No two texts of the timeline drawn over each other (a long lane label
  // running into its verdict word).
  if (svg) {
    const texts = [...svg.querySelectorAll("text")].map((t) => [t, t.getBoundingClientRect()]);
    let overlaps = 0;
    for (let i = 0; i < texts.length; ++i)
      for (let j = i + 1; j < texts.length; ++j) {
        const [a, ra] = texts[i], [b, rb] = texts[j];
        const dx = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const dy = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (dx > 1 && dy > 1 && ++overlaps <= 4)
          fail(`timeline texts overlap: "${ownText(a).slice(0, 50)}" and "${ownText(b).slice(0, 50)}"`);
      }
    if (overlaps > 4) fail(`timeline texts overlap: ${overlaps - 4} more pairs`);
  }

  // "N more" wherever the page lists fewer flows than the entry counted.
  let cut = 0;
  document.querySelectorAll("details.evidence").forEach((det) => {
    const link = det.querySelector('summary a[href^="#r"]');
    const row = link && document.querySelector(link.getAttribute("href"));
    const ids = row ? [...row.querySelectorAll("td.src .mono")] : [];
    const entry = ids.length ? words(ids[ids.length - 1]) : null;
    if (!entry || !(entry in counts)) { fail(`evidence ${det.id}: cannot tell its catalog entry`); return; }
    const shown = det.querySelectorAll("tbody tr").length;
    const more = counts[entry] - shown;
    if (shown === 0 || more <= 0) return;
    ++cut;
    const needle = new RegExp(`\\b${more} more\\b`);
    if (!needle.test(words(det))) fail(`evidence of ${entry}: ${shown} of ${counts[entry]} flows listed, no "${more} more"`);
    const lane = svg && svg.querySelector(`a[href="#${det.id}"]`);
    if (!lane || !needle.test(ownText(lane)))
      fail(`timeline lane of ${entry}: ${shown} of ${counts[entry]} flows drawn, no "${more} more" linking to #${det.id}`);
  });

  return {
    failures,
    summary: `${bars.length} bars (${barsBlocked} blocked), ${flowBadges.length} flow badges (${badgesBlocked} blocked), ` +
             `${labels.length} lanes, ${cut} cut evidence lists, ${gapRows} gap groups` +
             (run.origin ? `, merged from ${run.origin}` : ""),
  };
}
