// One definition, two builders, one set of names: images/<name>/image.json is what both the
// Dockerfile (make images) and the bash plan (make images-local) carry, and the chart and the
// webhook default to exactly the images those builds tag.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { imageNames, loadImage, projectVersion, repoRoot } from '../../scripts/images/definition.ts';
import { renderDockerfile } from '../../scripts/images/dockerfile.ts';
import { renderPlan } from '../../scripts/images/plan.ts';
import { parseInjectValues, WEFT_VERSION } from '../../webhook/values.ts';
import { trustBundlePem } from '../webhook/fixtures.ts';

const chartValues = parse(readFileSync(join(repoRoot, 'charts/weft/values.yaml'), 'utf8')) as {
  image: { repository: string; tag: string };
  injection: { proxyImage: string; initImage: string };
};
const chart = parse(readFileSync(join(repoRoot, 'charts/weft/Chart.yaml'), 'utf8')) as { appVersion: string };

describe('image names', () => {
  it('are weft and weft-proxy, tagged with the project version', () => {
    expect(imageNames()).toEqual(['weft', 'weft-proxy']);
    expect(loadImage('weft').ref).toBe(`ghcr.io/weft-mesh/weft:${projectVersion()}`);
    expect(loadImage('weft-proxy').ref).toBe(`ghcr.io/weft-mesh/weft-proxy:${projectVersion()}`);
    expect(WEFT_VERSION).toBe(projectVersion());
    expect(chart.appVersion).toBe(projectVersion());
  });

  it('are the chart defaults (controller image, proxy and init images)', () => {
    expect(`${chartValues.image.repository}:${chartValues.image.tag || chart.appVersion}`).toBe(loadImage('weft').ref);
    expect(chartValues.injection.proxyImage).toBe(loadImage('weft-proxy').ref);
    expect(chartValues.injection.initImage).toBe(loadImage('weft-proxy').ref);
  });

  it('are the webhook defaults when values leave them out', () => {
    const r = parseInjectValues({ trustBundlePem });
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.values.proxyImage).toBe(loadImage('weft-proxy').ref);
    expect(r.values.initImage).toBe(loadImage('weft-proxy').ref);
    // CNI mode's weft-validation runs src/capture/validate.ts with the controller image's Node.
    expect(r.values.validationImage).toBe(loadImage('weft').ref);
  });
});

describe.each(imageNames())('definition %s', (name) => {
  const img = loadImage(name);

  it('copies files that exist and are part of the Docker build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const from of Object.keys(img.def.files)) {
      expect(existsSync(join(repoRoot, from)), from).toBe(true);
      expect(ignored, from).not.toContain(from);
    }
    // What the local builder leaves out, the Docker context must leave out too.
    for (const ex of img.def.exclude) expect(ignored, ex).toContain(ex);
  });

  it('renders a Dockerfile whose final stage carries the definition', () => {
    const text = renderDockerfile(img);
    const final = text.slice(text.lastIndexOf('\nFROM '));
    expect(final).toMatch(new RegExp(`^\\nFROM debian:${img.def.suite}-slim\\n`));
    for (const [pkg, version] of Object.entries(img.def.packages)) expect(final).toContain(` ${pkg}=${version}`);
    for (const kind of Object.keys(img.def.artifacts)) expect(final).toContain(`COPY --from=artifact-${kind} /out/ /`);
    for (const [from, to] of Object.entries(img.def.files)) expect(final).toContain(`\nCOPY ${from} ${to}\n`);
    for (const cmd of img.runCommands) expect(final).toContain(cmd);
    expect(final).toContain(`\nUSER ${img.def.user}\n`);
    expect(final).toContain(`\nWORKDIR ${img.def.workdir}\n`);
    expect(final).toContain(`\nENTRYPOINT ${JSON.stringify(img.def.entrypoint)}\n`);
    for (const [k, v] of Object.entries(img.def.env)) expect(final).toContain(`\nENV ${k}=${JSON.stringify(v)}\n`);
    expect(Number(img.def.user.split(':')[0])).not.toBe(0);
  });

  it('renders a bash plan that round-trips through the shell', () => {
    const script = `${renderPlan(name)}\nprintf '%s\\n' "$REF" "\${OCI_ARGS[@]}"`;
    const lines = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trimEnd().split('\n');
    expect(lines[0]).toBe(img.ref);
    const arg = (flag: string) => lines[lines.indexOf(flag) + 1];
    expect(JSON.parse(arg('--entrypoint') ?? '')).toEqual(img.def.entrypoint);
    expect(arg('--user')).toBe(img.def.user);
    expect(lines).toContain(`org.opencontainers.image.description=${img.def.description}`);
  });
});
