// Opens the deck that marp-cli rendered (its bare template: every slide on one page, each
// an SVG that fills a 1280x720 viewport) in Debian's Chromium, and measures, slide by slide,
// how far the content reaches past the slide's frame: Marp clips each slide to its frame,
// so whatever sticks out is cut off on the screen. Prints one line per slide that
// overflows or shows an image that did not load, writes slide-NN.png for every slide, and
// exits 1 if any slide does not fit.
//
// usage: node measure.js DECK.html OUT_DIR
// Needs playwright-core on NODE_PATH (scripts/check-slides installs it); never downloads a
// browser: it drives CHROMIUM, /usr/bin/chromium by default.
'use strict';

const path = require('node:path');
const { chromium } = require('playwright-core');

const WIDTH = 1280;
const HEIGHT = 720;
// Sub-pixel rounding is not overflow; a cut-off line of text is at least a few pixels.
const TOLERANCE_PX = 1;

// What works here as root, with no network but the package registries.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Runs in the page. For each slide: its heading and how many pixels of content stick out
// past each edge of the frame. Every element and every text run counts (a long word or an
// unbreakable code line can stick out of a box that itself fits), and so does content
// clipped inside a box of its own (a code block that scrolls instead of fitting).
function measureSlides() {
  const sections = [...document.querySelectorAll('svg[data-marpit-svg] > foreignObject > section')];
  return sections.map((section) => {
    const frame = section.getBoundingClientRect();
    const scale = frame.width / section.offsetWidth;
    const over = { top: 0, right: 0, bottom: 0, left: 0 };
    const reach = (r) => {
      if (r.width === 0 && r.height === 0) return;
      over.top = Math.max(over.top, (frame.top - r.top) / scale);
      over.right = Math.max(over.right, (r.right - frame.right) / scale);
      over.bottom = Math.max(over.bottom, (r.bottom - frame.bottom) / scale);
      over.left = Math.max(over.left, (frame.left - r.left) / scale);
    };
    const walker = document.createTreeWalker(section, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        reach(range.getBoundingClientRect());
        continue;
      }
      reach(node.getBoundingClientRect());
      const style = getComputedStyle(node);
      if (style.overflowX !== 'visible') over.right = Math.max(over.right, node.scrollWidth - node.clientWidth);
      if (style.overflowY !== 'visible') over.bottom = Math.max(over.bottom, node.scrollHeight - node.clientHeight);
    }
    const broken = [...section.querySelectorAll('img')]
      .filter((img) => !img.complete || img.naturalWidth === 0)
      .map((img) => img.getAttribute('src'));
    const heading = section.querySelector('h1, h2, h3, h4, h5, h6');
    return { heading: heading ? heading.textContent.trim() : '(no heading)', over, broken };
  });
}

function describe(over) {
  return Object.entries(over)
    .filter(([, px]) => px > TOLERANCE_PX)
    .map(([edge, px]) => `${Math.ceil(px)} px past the ${edge}`)
    .join(', ');
}

async function main() {
  const [deck, outDir] = process.argv.slice(2);
  if (!deck || !outDir) {
    console.error('usage: node measure.js DECK.html OUT_DIR');
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Playwright adds --headless and a new, empty --user-data-dir of its own.
    args: FLAGS,
  });
  let failing = 0;
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
    await page.goto('file://' + path.resolve(deck), { waitUntil: 'load' });
    // Measure with the fonts the slides will be shown in, not a fallback still loading.
    await page.evaluate(() => document.fonts.ready);
    const slides = await page.evaluate(measureSlides);
    if (slides.length === 0) throw new Error(`no Marp slides in ${deck}`);
    const frames = page.locator('svg[data-marpit-svg]');
    for (const [i, slide] of slides.entries()) {
      const number = String(i + 1).padStart(2, '0');
      await frames.nth(i).screenshot({ path: path.join(outDir, `slide-${number}.png`) });
      const problems = [describe(slide.over), ...slide.broken.map((src) => `image ${src} did not load`)];
      const problem = problems.filter(Boolean).join('; ');
      if (problem) {
        failing += 1;
        console.log(`slide ${i + 1} "${slide.heading}": ${problem}`);
      }
    }
    console.log(`${slides.length} slides at ${WIDTH}x${HEIGHT}, ${failing} that do not fit; screenshots in ${outDir}`);
  } finally {
    await browser.close();
  }
  process.exit(failing > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(`measure: ${error.message}`);
  process.exit(2);
});
