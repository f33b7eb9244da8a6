// A simulated medical device PC: writes one file into a folder the slow way real device software
// does — straight to the final name, in pieces, with pauses — so the box sees a growing file.
// Usage: node slow-device-child.mjs TARGET SOURCE PIECES PAUSE_MS [SPLIT=lines|bytes]
// Prints `W <bytes>` after each piece and `D` when the file is complete.
import fs from 'node:fs';

const [target, source, pieces, pauseMs, split = 'bytes'] = process.argv.slice(2);
const bytes = fs.readFileSync(source);
const n = Number(pieces);
const cuts = [];
if (split === 'lines') {
  // Cut only after line breaks: every prefix parses, only 8100 tells it is short.
  const breaks = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) breaks.push(i + 1);
  for (let k = 1; k < n; k++) cuts.push(breaks[Math.floor((k * breaks.length) / n)]);
} else {
  for (let k = 1; k < n; k++) cuts.push(Math.floor((k * bytes.length) / n));
}
cuts.push(bytes.length);
const fd = fs.openSync(target, 'w');
let at = 0;
for (const cut of cuts) {
  fs.writeSync(fd, bytes, at, cut - at, at);
  at = cut;
  process.stdout.write(`W ${at}\n`);
  if (at < bytes.length) await new Promise((r) => setTimeout(r, Number(pauseMs)));
}
fs.closeSync(fd);
process.stdout.write('D\n');
