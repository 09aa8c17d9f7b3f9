// Trains nlp.js (@nlpjs/nlp with @nlpjs/lang-nl) on the examples of every
// intents/*.json file and scores the same labelled TSV file as bench_nlu:
// accuracy of the top classification, utterances per second on one core
// and training time. Prints one JSON object. Times are CPU seconds of the
// process (user and system, every thread), as bench_nlu measures them, so
// that other programs sharing the core do not count against either.
//
// With FRESH_FILE it also reads every line of that file once, as
// bench_nlu --fresh does.
//
// usage: node bench/nlu/nlpjs.mjs INTENTS_DIR TEST_TSV [SECONDS] [FRESH_FILE]
//
// nlp.js gets the examples only: it has no equivalent of the PCRE2 rules
// in the "patterns" keys.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(join(process.cwd(), 'package.json'));
const { containerBootstrap } = require('@nlpjs/core');
const { Nlp } = require('@nlpjs/nlp');
const { LangNl } = require('@nlpjs/lang-nl');

const [intentsDir, testPath, secondsArg, freshPath] = process.argv.slice(2);
if (!intentsDir || !testPath) {
  console.error('usage: node nlpjs.mjs INTENTS_DIR TEST_TSV [SECONDS] [FRESH_FILE]');
  process.exit(2);
}
const budget = Number(secondsArg || 3);

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const container = await containerBootstrap();
container.use(Nlp);
container.use(LangNl);
const nlp = container.get('nlp');
nlp.settings.autoSave = false;
nlp.settings.log = false;
nlp.addLanguage('nl');

for (const file of readdirSync(intentsDir).filter((f) => f.endsWith('.json')).sort()) {
  const { intents } = JSON.parse(readFileSync(join(intentsDir, file), 'utf8'));
  for (const intent of intents)
    for (const example of intent.examples) nlp.addDocument('nl', example, intent.name);
}
// Training prints a line per epoch through console.log.
const log = console.log;
console.log = () => {};
let start = cpuSeconds();
await nlp.train();
console.log = log;
const trainSeconds = cpuSeconds() - start;

const lines = readFileSync(testPath, 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => line.split('\t'));

// The top classification counts, even below nlp.js's "None" threshold,
// because stemdesk is scored on its top intent too.
function topIntent(response) {
  const best = response.classifications && response.classifications[0];
  return best ? best.intent : response.intent;
}

let correct = 0;
for (const [text, gold] of lines) {
  const response = await nlp.process('nl', text);
  if (topIntent(response) === gold) correct++;
}

let parsed = 0;
let elapsed = 0;
start = cpuSeconds();
while (elapsed < budget) {
  for (const [text] of lines) await nlp.process('nl', text);
  parsed += lines.length;
  elapsed = cpuSeconds() - start;
}

let freshLines = 0;
let freshRate = 0;
if (freshPath) {
  const fresh = readFileSync(freshPath, 'utf8').split('\n').filter((line) => line);
  start = cpuSeconds();
  for (const text of fresh) await nlp.process('nl', text);
  freshLines = fresh.length;
  freshRate = Math.round(freshLines / (cpuSeconds() - start));
}

console.log(JSON.stringify({
  engine: 'nlp.js',
  lines: lines.length,
  accuracy: Number((correct / lines.length).toFixed(4)),
  utterances_per_second: Math.round(parsed / elapsed),
  fresh_lines: freshLines,
  fresh_utterances_per_second: freshRate,
  load_seconds: Number(trainSeconds.toFixed(4)),
}));
