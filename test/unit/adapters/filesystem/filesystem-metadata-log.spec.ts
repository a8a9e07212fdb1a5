import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetadataProposalEntry } from '../../../../src/application/ports/metadata-log.port';
import { FilesystemMetadataLog } from '../../../../src/adapters/outbound/filesystem/metadata/filesystem-metadata-log';
import { MetadataProposal } from '../../../../src/domain/metadata/metadata-proposal';
import { silentLogger } from '../../../support/memory-broker';

const proposal = (i: number): MetadataProposal => ({
  proposalId: `p${i}`,
  expectations: [],
  events: [{ type: 'BrokerRegistered', data: { id: `b${i}`, host: 'h', port: i } }],
});

async function openAndCollect(dir: string): Promise<{ log: FilesystemMetadataLog; entries: MetadataProposalEntry[] }> {
  const log = new FilesystemMetadataLog(dir, silentLogger);
  const entries: MetadataProposalEntry[] = [];
  log.committed$.subscribe((e) => {
    // The single-node log never compacts: every entry is a proposal.
    expect(e.kind).toBe('proposal');
    if (e.kind === 'proposal') entries.push(e);
  });
  await log.start();
  return { log, entries };
}

describe('FilesystemMetadataLog', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metadata-log-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replays every committed entry, in order, after a restart', async () => {
    const first = await openAndCollect(dir);
    for (let i = 1; i <= 3; i++) await first.log.propose(proposal(i));
    expect(first.entries.map((e) => [e.index, e.recovered])).toEqual([[1, false], [2, false], [3, false]]);
    await first.log.close();
    const second = await openAndCollect(dir);
    expect(second.entries.map((e) => [e.index, e.proposal.proposalId, e.recovered])).toEqual([
      [1, 'p1', true],
      [2, 'p2', true],
      [3, 'p3', true],
    ]);
    await second.log.propose(proposal(4));
    expect(second.entries.at(-1)).toMatchObject({ index: 4, recovered: false });
    await second.log.close();
  });

  it('cuts a torn tail back to the last whole entry', async () => {
    const first = await openAndCollect(dir);
    for (let i = 1; i <= 3; i++) await first.log.propose(proposal(i));
    await first.log.close();
    const file = path.join(dir, 'metadata.log');
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 7); // the last entry is cut mid-record
    const second = await openAndCollect(dir);
    expect(second.entries.map((e) => e.proposal.proposalId)).toEqual(['p1', 'p2']);
    await second.log.propose(proposal(9));
    await second.log.close();
    const third = await openAndCollect(dir);
    expect(third.entries.map((e) => e.proposal.proposalId)).toEqual(['p1', 'p2', 'p9']);
    await third.log.close();
  });

  it('refuses to start when an entry in the middle is damaged, and keeps the file', async () => {
    const first = await openAndCollect(dir);
    for (let i = 1; i <= 3; i++) await first.log.propose(proposal(i));
    await first.log.close();
    const file = path.join(dir, 'metadata.log');
    const bytes = fs.readFileSync(file);
    bytes[12] = bytes[12]! ^ 0xff; // inside the first entry's payload: its CRC no longer matches
    fs.writeFileSync(file, bytes);
    const log = new FilesystemMetadataLog(dir, silentLogger);
    await expect(log.start()).rejects.toThrow(/corrupt at byte 0 .* valid entries after it/);
    expect(fs.readFileSync(file)).toEqual(bytes);
  });
});
