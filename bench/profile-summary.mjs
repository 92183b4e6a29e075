// Prints the top self-time functions of one or more .cpuprofile files: node bench/profile-summary.mjs <file>… [--top N]
import { formatTop, topSelfTime } from './lib/cpu-profile.mjs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const limit = topAt >= 0 ? Number(args[topAt + 1]) : 15;
const files = args.filter((_a, i) => topAt < 0 || (i !== topAt && i !== topAt + 1));
if (files.length === 0) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile>… [--top N]');
  process.exit(2);
}
for (const file of files) {
  console.log(file);
  for (const line of formatTop(topSelfTime(file, limit))) console.log(line);
}
