// `--name value` and bare `--name` (true) flags of the bench scripts; other arguments are skipped.
export function parseFlags(args) {
  const opts = {};
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (!flag.startsWith('--')) continue;
    const next = args[i + 1];
    opts[flag.slice(2)] = next !== undefined && !next.startsWith('--') ? (i++, next) : true;
  }
  return opts;
}
