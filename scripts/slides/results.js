// The results slides of the talk, written from the harness's report: every figure between
// `<!-- results:begin -->` and `<!-- results:end -->` in slides/offload.md comes from
// slides/results/report.json (what `scripts/compare` wrote), so the deck cannot say
// something the measurements did not.
//
// usage: node results.js [--write | --check] [DECK.md]
//   (no flag)  print the region it would write
//   --write    rewrite the region in DECK.md
//   --check    exit 1 if the region in DECK.md is not what --write would write
// DECK.md defaults to slides/offload.md; the report is results/report.json beside it.
// Plain node, no packages.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const BEGIN = '<!-- results:begin -->';
const END = '<!-- results:end -->';

// The harness's scenario names, as a column heading; a scenario missing here keeps its name.
const SCENARIO_HEADINGS = {
  'flaky-mailer': 'flaky mailer',
  'worker-crash': 'worker SIGKILLed',
  'redis-restart': 'Redis restarted',
};
// The scenario without faults: the one whose latency the first slide shows.
const STEADY = 'steady';

// As in the harness's report.md: 1.6 ms, 54 ms, 4.4 s; "–" where there is no figure.
function ms(value) {
  if (value === null || value === undefined) return '–';
  if (value < 10) return `${fixed(value, 1)} ms`;
  if (value < 1000) return `${fixed(value, 0)} ms`;
  return `${fixed(value / 1000, 1)} s`;
}

// Rounds as the harness (Rust's `{:.N}`) does, so a slide prints what report.md prints: to
// the nearest, and an exact tie to the even digit (62.5 -> 62), where JavaScript's toFixed
// rounds a tie up (63).
function fixed(value, digits) {
  const rounded = value.toFixed(digits);
  const exact = value.toFixed(100); // the double's own decimal expansion, not a rounding
  const cut = exact.indexOf('.') + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return rounded;
  const truncated = exact.slice(0, digits === 0 ? cut - 1 : cut);
  return Number(truncated[truncated.length - 1]) % 2 === 0 ? truncated : rounded;
}

// Strategies and variants in the report's order, labelled as report.md labels them:
// "2 fire-and-forget", and "5 resque (reliable)" where a strategy ran more than one variant.
function rowsOf(runs) {
  const variants = new Map();
  for (const run of runs) {
    if (!variants.has(run.strategy)) variants.set(run.strategy, new Set());
    variants.get(run.strategy).add(run.variant);
  }
  const rows = [];
  for (const run of runs) {
    const key = `${run.strategy}/${run.variant}`;
    if (rows.some((row) => row.key === key)) continue;
    const label =
      variants.get(run.strategy).size > 1
        ? `${run.strategy} ${run.title} (${run.variant})`
        : `${run.strategy} ${run.title}`;
    rows.push({ key, label });
  }
  return rows;
}

function scenariosOf(runs) {
  return [...new Set(runs.map((run) => run.scenario))];
}

function find(runs, row, scenario) {
  return runs.find((run) => `${run.strategy}/${run.variant}` === row.key && run.scenario === scenario);
}

// What the user waits for (HTTP) and what the mail waits for (delivery), with no fault.
function latencySlide(report, rows) {
  const s = report.settings;
  const lines = [
    '<!-- _class: results -->',
    '',
    '## What the user waits for, and the mail',
    '',
    `\`scripts/compare\`, no fault: ${s.requests} requests at ${s.rate}/s, ` +
      `the mail server answers after ${s.mailer_latency_ms} ms. ` +
      'From the moment each request was due to the answer (HTTP) and to the mail server (mail).',
    '',
    '| strategy | HTTP p50 | HTTP p99 | mail p50 | mail p99 |',
    '|---|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const run = find(report.runs, row, STEADY);
    if (!run) continue;
    if (run.error) {
      lines.push(`| ${row.label} | run failed | | | |`);
      continue;
    }
    const l = run.latency_ms;
    const d = run.delivery_ms;
    lines.push(`| ${row.label} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(d.p50)} | ${ms(d.p99)} |`);
  }
  return lines;
}

// One cell of the loss table: the mail lost silently (bold when any was), then what else
// the run did with mail it did not deliver once: refused it (the client knows), parked it
// (someone can see and retry it), or delivered it twice.
function lossCell(run) {
  if (!run) return '–';
  if (run.error) return 'run failed';
  const lost = run.lost > 0 ? `**${run.lost}**` : '0';
  const also = [];
  if (run.rejected > 0) also.push(`${run.rejected} refused`);
  if (run.parked > 0) also.push(`${run.parked} parked`);
  if (run.duplicates > 0) also.push(`${run.duplicates} dup`);
  return also.length > 0 ? `${lost} (${also.join(', ')})` : lost;
}

// Mail lost silently, per strategy and per fault.
function lossSlide(report, rows, faults) {
  const lines = [
    '<!-- _class: results -->',
    '',
    '## What a fault loses',
    '',
    `Mail lost out of ${report.settings.requests} requests: accepted, never delivered, nobody told. ` +
      'In brackets: **refused** (the client got an error and can retry), ' +
      '**parked** (in a failed list, to retry), **dup** (extra copies).',
    '',
    `| strategy | ${faults.map((f) => SCENARIO_HEADINGS[f] || f).join(' | ')} |`,
    `|---|${faults.map(() => '--:').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = faults.map((fault) => lossCell(find(report.runs, row, fault)));
    lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  return lines;
}

// The text between the markers, markers included.
function region(report) {
  const rows = rowsOf(report.runs);
  const scenarios = scenariosOf(report.runs);
  const faults = scenarios.filter((scenario) => scenario !== STEADY);
  const slides = [];
  if (scenarios.includes(STEADY)) slides.push(latencySlide(report, rows));
  if (faults.length > 0) slides.push(lossSlide(report, rows, faults));
  const body = slides.map((slide) => slide.join('\n')).join('\n\n---\n\n');
  return [
    BEGIN,
    '<!-- Written by scripts/slides/results.js from results/report.json: run it, do not edit by hand. -->',
    '',
    body,
    '',
    END,
  ].join('\n');
}

// The deck with its region replaced, or an error saying what is wrong with the markers.
function rewrite(deck, fresh) {
  const begin = deck.indexOf(BEGIN);
  const end = deck.indexOf(END);
  if (begin < 0 || end < 0 || end < begin) {
    throw new Error(`no "${BEGIN}" ... "${END}" region`);
  }
  if (deck.indexOf(BEGIN, begin + 1) >= 0 || deck.indexOf(END, end + 1) >= 0) {
    throw new Error('more than one results region');
  }
  return deck.slice(0, begin) + fresh + deck.slice(end + END.length);
}

function main() {
  const args = process.argv.slice(2);
  const mode = args.find((arg) => arg.startsWith('--')) || '--print';
  if (!['--print', '--write', '--check'].includes(mode)) {
    console.error('usage: node results.js [--write | --check] [DECK.md]');
    process.exit(2);
  }
  const deckPath = args.find((arg) => !arg.startsWith('--')) || path.join(__dirname, '../../slides/offload.md');
  const reportPath = path.join(path.dirname(deckPath), 'results', 'report.json');
  const fresh = region(JSON.parse(fs.readFileSync(reportPath, 'utf8')));
  if (mode === '--print') {
    console.log(fresh);
    return;
  }
  const deck = fs.readFileSync(deckPath, 'utf8');
  let updated;
  try {
    updated = rewrite(deck, fresh);
  } catch (error) {
    console.error(`${deckPath}: ${error.message}; put the two markers where the results slides go`);
    process.exit(1);
  }
  if (mode === '--write') {
    if (updated !== deck) fs.writeFileSync(deckPath, updated);
    console.log(`${deckPath}: results region ${updated === deck ? 'already up to date' : 'rewritten'} from ${reportPath}`);
    return;
  }
  if (updated !== deck) {
    console.error(`${deckPath}: the results region is not what ${reportPath} says; ` +
      'run `node scripts/slides/results.js --write` and commit the deck');
    printFirstDifference(deck, updated);
    process.exit(1);
  }
  console.log(`${deckPath}: results region matches ${reportPath}`);
}

// The first line where the deck and the fresh deck part, to show what drifted.
function printFirstDifference(deck, updated) {
  const old = deck.split('\n');
  const fresh = updated.split('\n');
  for (let i = 0; i < Math.max(old.length, fresh.length); i++) {
    if (old[i] !== fresh[i]) {
      console.error(`  line ${i + 1} is:      ${old[i] === undefined ? '(end of file)' : old[i]}`);
      console.error(`  report.json gives: ${fresh[i] === undefined ? '(end of file)' : fresh[i]}`);
      return;
    }
  }
}

main();
