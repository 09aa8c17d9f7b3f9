// Writes COUNT distinct messages that no engine has read before, made from
// the first column of a labelled TSV file. Each message is a test line with
// one or two typos in its words of five letters or more: a letter dropped,
// doubled, swapped with the next or replaced. A fixed seed makes the same
// file on every machine. bench_nlu and nlpjs.mjs then read every
// message once, so that neither can reuse what it computed for a word.
//
// usage: node bench/nlu/fresh.mjs TEST_TSV COUNT OUT_FILE
import { readFileSync, writeFileSync } from 'node:fs';

const [testPath, countArg, outPath] = process.argv.slice(2);
const count = Number(countArg);
if (!testPath || !outPath || !(count > 0)) {
  console.error('usage: node bench/nlu/fresh.mjs TEST_TSV COUNT OUT_FILE');
  process.exit(2);
}

// mulberry32: a small PRNG with a fixed seed.
let seed = 0x5eed1234;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (n) => Math.floor(random() * n);
const letters = 'abcdefghijklmnopqrstuvwxyz';

function typo(word) {
  const at = 1 + pick(word.length - 2);
  switch (pick(4)) {
    case 0: return word.slice(0, at) + word.slice(at + 1);
    case 1: return word.slice(0, at) + word[at] + word.slice(at);
    case 2: return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
    default: return word.slice(0, at) + letters[pick(26)] + word.slice(at + 1);
  }
}

const texts = readFileSync(testPath, 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => line.split('\t')[0])
  .filter((text) => text.split(' ').some((w) => /^[a-z]{5,}$/i.test(w)));

const seen = new Set();
let attempts = 0;
while (seen.size < count && attempts < count * 20) {
  attempts++;
  const words = texts[pick(texts.length)].split(' ');
  const long = words.map((w, i) => i).filter((i) => /^[a-z]{5,}$/i.test(words[i]));
  const typos = 1 + pick(2);
  for (let k = 0; k < typos; k++) {
    const i = long[pick(long.length)];
    words[i] = typo(words[i]);
  }
  seen.add(words.join(' '));
}
if (seen.size < count) {
  console.error(`fresh.mjs: made only ${seen.size} distinct messages of ${count}; ask for fewer`);
  process.exit(1);
}
writeFileSync(outPath, [...seen].join('\n') + '\n');
