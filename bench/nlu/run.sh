#!/bin/sh
# Compares stemdesk's intent classifier with nlp.js on the same intents/
# files and the same held-out test file: accuracy, utterances per second on
# one core (CPU time), and load (training) time, with stemdesk/nlp.js
# ratios. stemdesk's speed is given for the whole nlu_parse, for intent
# classification alone and for entity extraction alone; nlp.js does no
# entity extraction here. "first pass" is the whole nlu_parse of a fresh
# model over the file once, before the model has stored anything for the
# words it does not know. "fresh text" is one pass of each engine, with a
# model in use, over 20,000 messages that bench/nlu/fresh.mjs makes from
# the test lines by adding one or two typos to each: words that neither
# engine has met before.
#
# usage: bench/nlu/run.sh [BUILD_DIR] [SECONDS]
# Run from the repository root after building the bench_nlu target, e.g.
#   cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-release --target bench_nlu -j2
#   bench/nlu/run.sh build-release
set -eu

build_dir=${1:-build}
seconds=${2:-3}
test_file=tests/nlu/intents-test.tsv

if [ ! -x "$build_dir/bench/nlu/bench_nlu" ]; then
    echo "run.sh: $build_dir/bench/nlu/bench_nlu not found; build the" \
         "bench_nlu target first" >&2
    exit 1
fi

fresh_file=$(mktemp)
trap 'rm -f "$fresh_file"' EXIT
node bench/nlu/fresh.mjs "$test_file" 20000 "$fresh_file"

ours=$(taskset -c 0 "$build_dir/bench/nlu/bench_nlu" intents lang \
       "$test_file" "$seconds" --fresh "$fresh_file" 2>/dev/null)
theirs=$(taskset -c 0 node bench/nlu/nlpjs.mjs intents "$test_file" \
         "$seconds" "$fresh_file")

node -e '
const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
const row = (name, x, y, digits) =>
  console.log(name.padEnd(24) + x.toFixed(digits).padStart(12) +
              y.toFixed(digits).padStart(12) +
              (x / y).toFixed(2).padStart(10));
console.log("".padEnd(24) + "stemdesk".padStart(12) + "nlp.js".padStart(12) +
            "ratio".padStart(10));
row("accuracy", a.accuracy, b.accuracy, 3);
row("utterances per second", a.utterances_per_second,
    b.utterances_per_second, 0);
row("  first pass (cold)", a.cold_utterances_per_second,
    b.utterances_per_second, 0);
row("  intents only", a.classifier_per_second, b.utterances_per_second, 0);
console.log("  entities only".padEnd(24) +
            a.entities_per_second.toFixed(0).padStart(12));
console.log("  entities, data apart".padEnd(24) +
            a.entities_apart_per_second.toFixed(0).padStart(12));
const share = (1 / a.entities_per_second) /
              (1 / a.entities_per_second + 1 / a.classifier_per_second);
console.log("entity share of a parse: " + (100 * share).toFixed(0) + "%");
row("fresh text (new typos)", a.fresh_utterances_per_second,
    b.fresh_utterances_per_second, 0);
row("load seconds", a.load_seconds, b.load_seconds, 3);
console.log("test lines: " + a.lines + ", stemdesk ECE: " + a.ece.toFixed(3));
' "$ours" "$theirs"
