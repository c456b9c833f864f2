// Where the root (or user-supplied intermediate) lives. Replicas race to create it; the store
// decides one winner, and losers read the winner's material (bootstrap.ts).
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { CaMaterial } from './authority.ts';
import { pemBlocks, toPem } from './pem.ts';

export type RootMaterial = CaMaterial;

export interface RootStore {
  /** The stored material, or undefined when none has been created yet. */
  load(): Promise<RootMaterial | undefined>;
  /** Stores `material` unless something is already there; never overwrites. */
  createIfAbsent(material: RootMaterial): Promise<'created' | 'exists'>;
}

/**
 * Standalone mode: one PEM file holding the certificate chain, then the private key (mode 0600).
 * Created by hard-linking a fully written temp file into place, so a reader never sees half a
 * file and two processes racing get exactly one winner (link fails with EEXIST for the loser).
 */
export function fileRootStore(path: string): RootStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const blocks = pemBlocks(text);
      const certPem = blocks
        .filter((b) => b.label === 'CERTIFICATE')
        .map((b) => toPem(b.label, b.der))
        .join('');
      const keyPem = blocks
        .filter((b) => b.label.endsWith('PRIVATE KEY'))
        .map((b) => toPem(b.label, b.der))
        .join('');
      // An unparseable file is handed to loadCa, which reports every problem by field.
      return { certPem, keyPem };
    },
    async createIfAbsent(material) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, material.certPem + material.keyPem, { mode: 0o600, flag: 'wx' });
      try {
        await link(tmp, path);
        return 'created';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw err;
      } finally {
        await rm(tmp, { force: true });
      }
    },
  };
}
