#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages, builds the TypeScript, and (with --nats)
// finds or installs the nats-server binary. Every step is skipped when already done.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`ensure: "${cmd} ${cmdArgs.join(' ')}" failed (exit ${r.status})`);
    process.exit(r.status || 1);
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    const m = entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

function ensurePackages() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  console.error('ensure: installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function ensureBuild() {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const sourceMtime = Math.max(newestMtime(path.join(root, 'src')), newestMtime(path.join(root, 'proto')));
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= sourceMtime) return;
  console.error('ensure: compiling TypeScript (tsc -p tsconfig.build.json)');
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  fs.writeFileSync(stamp, String(Date.now()));
}

function which(bin) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

function ensureNatsServer() {
  const configured = process.env.LIFTBRIDGE_NATS_SERVER_BIN;
  if (configured && fs.existsSync(configured)) return;
  if (which('nats-server')) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    console.error(
      'ensure: no nats-server binary found. Install it (Debian: "apt-get install nats-server") ' +
        'or set LIFTBRIDGE_NATS_SERVER_BIN to its path.',
    );
    process.exit(1);
  }
  console.error('ensure: installing the Debian nats-server package');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'nats-server'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!which('nats-server')) {
    console.error('ensure: apt-get finished but nats-server is still not on PATH');
    process.exit(1);
  }
}

/** Installs Debian package `pkg` (as root, with apt-get) unless `present()`; otherwise says how and exits. */
function ensureDebianPackage(pkg, what, present) {
  if (present()) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    console.error(`ensure: ${what} is missing. Install it (Debian: "apt-get install ${pkg}").`);
    process.exit(1);
  }
  console.error(`ensure: installing the Debian ${pkg} package`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', pkg], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// openssl, with which the NATS security tests make their certificates (test/support/test-certificates.ts).
const ensureOpenssl = () => ensureDebianPackage('openssl', 'openssl', () => which('openssl') !== null);

// libfaketime, for the fault suite's clock jumps (docs/reliability.md); only `npm run test:faults`.
const ensureFaketime = () =>
  ensureDebianPackage('faketime', 'libfaketime', () => fs.existsSync('/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1'));

ensurePackages();
ensureBuild();
if (args.has('--nats')) {
  ensureNatsServer();
  ensureOpenssl();
}
if (args.has('--faketime')) ensureFaketime();
