import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The repository stands alone: a reader who cloned it must be able to follow every reference in
 * code, tests and docs. So nothing may cite documents that live outside it (the research notes the
 * project started from, its style guide, its fault-test plan, the issue tracker), and every
 * `docs/<page>.md` citation must name a page that exists and, when it quotes a section
 * (`docs/x.md "Section"`) or numbers one (`docs/x.md §1.2`), a heading of that page.
 */
const root = path.resolve(__dirname, '../../..');
const self = path.relative(root, __filename);

const scannedDirs = ['src', 'test', 'bench', 'scripts', 'docs', 'proto', 'bin', '.ci'];
const scannedRootFiles = ['README.md', 'package.json', '.dependency-cruiser.js', 'jest.config.js', 'jest.faults.config.js'];

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(p);
    return entry.isFile() ? [p] : [];
  });
}

/** Text files of the repository that people read: code, tests, scripts, docs, protos. */
function scannedFiles(): { file: string; text: string }[] {
  const files = [
    ...scannedDirs.flatMap((d) => filesUnder(path.join(root, d))),
    ...scannedRootFiles.map((f) => path.join(root, f)).filter((f) => fs.existsSync(f)),
  ];
  return files.flatMap((abs) => {
    const buf = fs.readFileSync(abs);
    if (buf.includes(0)) return []; // binary fixtures
    return [{ file: path.relative(root, abs), text: buf.toString('utf8') }];
  });
}

const outsideReferences: [RegExp, string][] = [
  [/spec §/i, '"spec §" (the specification notes are not in the repository: cite docs/protocol.md and the other docs pages)'],
  [/style §/i, '"style §" (cite docs/style.md)'],
  [/reliability[ -]plan/i, 'the reliability plan (cite docs/reliability.md "Scenarios" or "Bad inputs")'],
  [/liftbridge-spec/i, 'liftbridge-spec.md (cite docs/protocol.md)'],
  [/(\.\.\/)+shared\/(spec|style)|\/work\/shared/, 'a path outside the repository'],
  [/\bissue[- ]\d+/i, 'an issue number (say what was meant, or cite a docs page)'],
];

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** A heading as written, reduced for comparison: no `#`, no section number, no backticks, lower case. */
function normalizeHeading(heading: string): string {
  return heading
    .replace(/^#+\s*/, '')
    .replace(/^\d+(\.\d+)*\.?\s+/, '')
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
}

const headingsCache = new Map<string, string[]>();
function headingsOf(page: string): string[] {
  let headings = headingsCache.get(page);
  if (!headings) {
    const text = fs.readFileSync(path.join(root, 'docs', `${page}.md`), 'utf8');
    // Headings outside fenced code blocks only (a `# comment` in a YAML example is no heading).
    headings = text
      .split(/^```/m)
      .filter((_, i) => i % 2 === 0)
      .join('\n')
      .split('\n')
      .filter((line) => /^#{1,6}\s/.test(line));
    headingsCache.set(page, headings);
  }
  return headings;
}

/** True when `section` names a heading: the whole heading, or its first words (up to `:`, ` (`, ...). */
function hasSection(page: string, section: string): boolean {
  const wanted = normalizeHeading(section);
  return headingsOf(page).some((h) => {
    const heading = normalizeHeading(h);
    return heading === wanted || (heading.startsWith(wanted) && /[\s:(,—-]/.test(heading[wanted.length]));
  });
}

/** True when a heading of `page` carries the section number `number` (`## 4. Recovery`, `### 1.2 Encoded`). */
function hasNumberedSection(page: string, number: string): boolean {
  return headingsOf(page).some((h) => new RegExp(`^#+\\s*${number.replace(/\./g, '\\.')}\\.?\\s`).test(h));
}

describe('self-contained references: every reference can be followed inside the repository', () => {
  const files = scannedFiles();

  it('scans the code, tests, scripts, docs and protos', () => {
    expect(files.some((f) => f.file.startsWith(`src${path.sep}`))).toBe(true);
    expect(files.some((f) => f.file.startsWith(`docs${path.sep}`))).toBe(true);
  });

  it('cites nothing outside the repository (specification notes, style guide, fault-test plan, issues)', () => {
    const offences: string[] = [];
    for (const { file, text } of files) {
      if (file === self) continue;
      for (const [pattern, what] of outsideReferences) {
        const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
        for (const m of text.matchAll(global)) offences.push(`${file}:${lineOf(text, m.index ?? 0)}: ${what}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('cites only docs pages that exist', () => {
    const offences: string[] = [];
    for (const { file, text } of files) {
      if (file === self) continue;
      for (const m of text.matchAll(/docs\/([a-z0-9-]+)\.md/g)) {
        if (!fs.existsSync(path.join(root, 'docs', `${m[1]}.md`))) offences.push(`${file}:${lineOf(text, m.index ?? 0)}: docs/${m[1]}.md`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('cites only sections that are headings of the page cited', () => {
    const offences: string[] = [];
    for (const { file, text } of files) {
      if (file === self) continue;
      for (const m of text.matchAll(/docs\/([a-z0-9-]+)\.md,? (?:"([^"\n]+)"|§ ?(\d+(?:\.\d+)*))/g)) {
        const page = m[1];
        if (!fs.existsSync(path.join(root, 'docs', `${page}.md`))) continue; // reported by the test above
        const ok = m[2] !== undefined ? hasSection(page, m[2]) : hasNumberedSection(page, m[3]);
        if (!ok) offences.push(`${file}:${lineOf(text, m.index ?? 0)}: ${m[0]}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
