import fs from 'node:fs';
import path from 'node:path';
import type { ReportData } from '../evaluation/types';
import { formatDeltaMs, formatDeltaPoints, formatMs, formatPercent, formatTokens, formatUsd } from '../format';
import { writeFileAtomic } from '../output';
import { preparePayload } from './payload';

// From src/experiment/report (tests) and dist/experiment/report (the package) alike.
const ASSETS = path.join(__dirname, '..', '..', '..', 'assets', 'report');

/**
 * The number formats of the console, as source for the page: the page runs the very functions
 * the CLI does, so that a figure reads the same in both. Each is self-contained for this.
 */
function formatSource(): string {
  return [formatMs, formatPercent, formatDeltaMs, formatDeltaPoints, formatUsd, formatTokens]
    .map((f) => {
      const source = f.toString();
      // A build that renamed or instrumented them would make a page that fails on its first number.
      if (!source.startsWith(`function ${f.name}(`)) throw new Error(`the report cannot embed ${f.name}: its source is not a plain function declaration`);
      return source;
    })
    .join('\n');
}

/** The report as one HTML document: its data, styles and script inline, nothing loaded from elsewhere. */
export function renderReport(data: ReportData, now = new Date()): string {
  const payload = preparePayload(data, now);
  const css = fs.readFileSync(path.join(ASSETS, 'report.css'), 'utf8');
  const js = fs.readFileSync(path.join(ASSETS, 'report.js'), 'utf8');
  const title = `FluxLoop report: ${data.experiment}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fluxloop">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>
${inlineText(css, 'style')}
</style>
</head>
<body>
<header id="report-header" class="report-header"></header>
<main id="app">
<noscript><p class="noscript">This report needs JavaScript to show its runs.</p></noscript>
<section id="verdict" class="verdict" aria-label="Verdict" hidden></section>
<section id="summary-cards" class="cards" aria-label="Summary"></section>
<section class="panels">
<div class="panel"><h2>Latency</h2><div id="histogram" class="histogram"></div></div>
<div class="panel"><h2>Evaluators</h2><div id="evaluators"></div></div>
</section>
<section class="panels breakdowns" aria-label="Pass rates by strategy, persona and base input">
<div class="panel"><h2>By strategy</h2><div id="by-strategy"></div></div>
<div class="panel"><h2>By persona</h2><div id="by-persona"></div></div>
<div class="panel wide"><h2>By base input</h2><div id="by-base"></div></div>
</section>
<section id="comparison" class="panel" hidden></section>
<section id="runs" class="panel">
<div class="runs-head"><h2>Runs</h2><span id="runs-count" class="count"></span></div>
<div id="filters" class="filters"></div>
<div class="table-wrap"><table id="runs-table" class="runs-table"><thead></thead><tbody></tbody></table></div>
<div id="pager" class="pager"></div>
</section>
</main>
<dialog id="run-detail" class="detail" aria-labelledby="detail-title"></dialog>
<script type="application/json" id="fluxloop-data">${jsonForScript(payload)}</script>
<script>
${inlineText(formatSource(), 'script')}
${inlineText(js, 'script')}
</script>
</body>
</html>
`;
}

/** Writes it whole or not at all, for its owner alone (0600): it quotes the experiment's runs. */
export function writeReport(file: string, data: ReportData): void {
  writeFileAtomic(file, renderReport(data), { private: true });
}

/**
 * JSON that can sit in a script element: `<`, `>` and `&` escaped so that no string closes the
 * element or opens a comment, U+2028/2029 so that the text stays valid as script source too.
 */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An asset's text inside `<style>` or `<script>`: it must not end the element early. */
function inlineText(text: string, element: 'style' | 'script'): string {
  if (new RegExp(`</${element}`, 'i').test(text)) throw new Error(`report asset contains </${element}>`);
  return text;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
