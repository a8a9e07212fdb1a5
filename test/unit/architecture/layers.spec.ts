import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const p = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Code with comments and string contents removed, so that rules look at code only. */
function codeOf(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

describe('layer rules (docs/style.md "Layers")', () => {
  it('dependency-cruiser finds no forbidden import between layers', () => {
    const cli = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    const output = execFileSync(process.execPath, [cli, 'src', '--config', '.dependency-cruiser.js', '--output-type', 'err'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(output).toContain('no dependency violations found');
  });

  const forbiddenInCore: [RegExp, string][] = [
    [/\bDate\.now\s*\(/, 'Date.now()'],
    [/\bnew Date\b/, 'new Date'],
    [/\bMath\.random\s*\(/, 'Math.random()'],
    [/\brandomUUID\b/, 'randomUUID'],
    [/(?<![.\w])set(Timeout|Interval|Immediate)\s*\(/, 'timers'],
    [/\bprocess\./, 'process'],
  ];

  it.each([['src/domain'], ['src/application']])('%s reaches the world only through ports (no clock, randomness, timers, process)', (dir) => {
    const offences: string[] = [];
    // Ports declare methods named like timers (Scheduler.setTimeout); they hold no code.
    for (const file of sourceFiles(path.join(root, dir)).filter((f) => !f.includes(`${path.sep}ports${path.sep}`))) {
      const code = codeOf(file);
      for (const [pattern, what] of forbiddenInCore) if (pattern.test(code)) offences.push(`${path.relative(root, file)}: ${what}`);
    }
    expect(offences).toEqual([]);
  });

  it('the domain has no async code and no decorators', () => {
    const offences = sourceFiles(path.join(root, 'src/domain'))
      .filter((file) => /\basync\b|\bawait\b|@injectable|@inject\b/.test(codeOf(file)))
      .map((file) => path.relative(root, file));
    expect(offences).toEqual([]);
  });
});
