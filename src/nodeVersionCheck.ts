/**
 * Imported first by every entry point: on a Node older than the `engines` minimum the process
 * stops with one line that names the fix, instead of failing later on a missing API.
 * 22.18 is the first release that runs `.ts` files without a flag (type stripping).
 */
const MINIMUM = [22, 18] as const;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `rtms-connector needs Node >= ${MINIMUM.join('.')} (this is ${process.version}): run it through npm scripts, which use the Node 24 that \`npm ci\` installs, or install Node 24 LTS\n`,
  );
  process.exit(1);
}
