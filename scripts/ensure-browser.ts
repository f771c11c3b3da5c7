/**
 * The browser the dashboard's tests (and scripts/screenshots.ts) drive.
 *
 * `findBrowser()` looks, in order, at CHROME_PATH, the system's chromium /
 * google-chrome (on PATH and the usual install paths) and Playwright's own
 * browser cache (what `npx playwright-core install chromium` downloads).
 *
 * Run as a script (`npm test`'s `pretest` step), it makes sure there is one:
 * when none is found it installs one where it can — as root with apt-get,
 * `apt-get install -y chromium`; otherwise into Playwright's cache with
 * `npx playwright-core install chromium` — and, if that fails too, stops
 * with the one command that installs it. It never lets the tests run
 * without a browser.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** Executable names of a system Chromium or Chrome, most preferred first. */
const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
/** Where Debian, Ubuntu, Fedora, Google's packages and macOS put them (also when PATH is bare). */
const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

export interface FoundBrowser {
  path: string;
  /** Where it was found: `CHROME_PATH`, `system` or `playwright cache`. */
  source: 'CHROME_PATH' | 'system' | 'playwright cache';
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The first browser found, or undefined. A CHROME_PATH that names no
 * executable is an error (the user asked for that browser), not a miss.
 */
export function findBrowser(): FoundBrowser | undefined {
  const wanted = process.env.CHROME_PATH;
  if (wanted) {
    const path = resolve(wanted);
    if (!executable(path)) throw new Error(`CHROME_PATH is set to ${wanted}, which is not an executable file. Unset it to use the system's chromium, or point it at a Chromium or Chrome executable.`);
    return { path, source: 'CHROME_PATH' };
  }
  for (const name of SYSTEM_NAMES) {
    const path = onPath(name);
    if (path) return { path, source: 'system' };
  }
  for (const path of SYSTEM_PATHS) if (executable(path)) return { path, source: 'system' };
  // Playwright's cache (PLAYWRIGHT_BROWSERS_PATH or ~/.cache/ms-playwright), the revision this playwright-core drives
  const cached = chromium.executablePath();
  if (cached && executable(cached)) return { path: cached, source: 'playwright cache' };
  return undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The one command that installs a browser on this machine, for the message when nothing worked. */
export function installCommand(): string {
  if (onPath('apt-get')) return isRoot() ? 'apt-get update && apt-get install -y chromium' : 'sudo apt-get update && sudo apt-get install -y chromium';
  return 'npx playwright-core install chromium';
}

/** Why the browser tests cannot run, with the command that fixes it. */
export function missingBrowserMessage(): string {
  return (
    'No Chromium or Chrome found for the dashboard\'s browser tests (looked at CHROME_PATH, chromium / google-chrome on PATH and in the usual places, and Playwright\'s cache).\n' +
    `Install one with:\n\n    ${installCommand()}\n\n` +
    'or set CHROME_PATH to a Chromium or Chrome executable. (`npm test` runs scripts/ensure-browser.ts first, which tries this itself.)'
  );
}

/** The browser's path; throws missingBrowserMessage() when there is none. For the tests. */
export function browserPath(): string {
  const found = findBrowser();
  if (!found) throw new Error(missingBrowserMessage());
  return found.path;
}

function run(command: string, args: string[]): boolean {
  console.error(`ensure-browser: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

/** Installs a browser the first way that works here; true when one ran successfully. */
function install(): boolean {
  if (isRoot() && onPath('apt-get')) {
    if (run('apt-get', ['update']) && run('apt-get', ['install', '-y', 'chromium'])) return true;
  }
  const cli = fileURLToPath(new URL('../node_modules/playwright-core/cli.js', import.meta.url));
  if (existsSync(cli)) return run(process.execPath, [cli, 'install', 'chromium']);
  return run('npx', ['--yes', 'playwright-core', 'install', 'chromium']);
}

function version(path: string): string {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'version unknown';
  }
}

/** Finds a browser, installing one when there is none; exits 1 with the command to run when that fails. */
export function ensureBrowser(): FoundBrowser {
  let found: FoundBrowser | undefined;
  try {
    found = findBrowser();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  if (!found) {
    console.error('ensure-browser: no Chromium or Chrome found; installing one for the dashboard\'s browser tests');
    install();
    found = findBrowser();
    if (!found) {
      console.error(`\n${missingBrowserMessage()}`);
      process.exit(1);
    }
  }
  console.log(`browser for the dashboard tests: ${found.path} (${found.source}; ${version(found.path)})`);
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureBrowser();
