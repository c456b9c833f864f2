// The pure half of the file source: which objects a file serves given its text and what
// it served before, and how files merge.
import { describe, expect, it } from 'vitest';
import { evaluateFile, mergeFiles, type FileEntry } from '../../src/sources/file-documents.ts';
import { objectId } from '../../src/api/objects.ts';

const svc = (name: string, extra = '') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {ports: [{name: http, port: 80}]${extra}}\n`;
const ids = (entries: readonly FileEntry[]) => entries.map((e) => objectId(e.object));

describe('evaluateFile', () => {
  it('serves valid documents, reports invalid ones by file#index and field, skips empty ones', () => {
    const text = [svc('a'), 'apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {ports: [{port: 0}]}\n', svc('c'), ''].join('---\n');
    const out = evaluateFile('m.yaml', text, []);
    expect(ids(out.entries)).toEqual(['Service shop/a', 'Service shop/c']);
    expect(out.problems).toEqual([{ source: 'm.yaml#1', field: 'spec.ports[0].port', reason: 'must be between 1 and 65535' }]);
  });

  it('keeps the last good object when its document breaks, by identity even if documents moved', () => {
    const before = evaluateFile('m.yaml', [svc('a'), svc('b')].join('---\n'), []);
    const broken = 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec: {ports: [{port: -1}]}\n';
    const after = evaluateFile('m.yaml', [svc('b'), broken].join('---\n'), before.entries);
    expect(ids(after.entries).sort()).toEqual(['Service shop/a', 'Service shop/b']);
    expect(after.kept).toEqual(['Service shop/a']);
    expect(after.problems).toContainEqual({
      source: 'm.yaml#1',
      field: '(document)',
      reason: 'invalid; still serving the last good version of Service shop/a',
    });
    // A second broken edit still serves the same last good version.
    const again = evaluateFile('m.yaml', [svc('b'), broken].join('---\n'), after.entries);
    expect(ids(again.entries).sort()).toEqual(['Service shop/a', 'Service shop/b']);
  });

  it('falls back to the document position when the edit broke the identity itself', () => {
    const before = evaluateFile('m.yaml', svc('a'), []);
    const after = evaluateFile('m.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {}\n', before.entries);
    expect(ids(after.entries)).toEqual(['Service shop/a']);
  });

  it('keeps every last good object of a file with a YAML syntax error', () => {
    const before = evaluateFile('m.yaml', [svc('a'), svc('b')].join('---\n'), []);
    const after = evaluateFile('m.yaml', `${svc('a')}---\nkind: [unclosed\n`, before.entries);
    expect(ids(after.entries)).toEqual(['Service shop/a', 'Service shop/b']);
    expect(after.problems[0]).toMatchObject({ source: 'm.yaml#1', field: '(yaml)' });
    expect(after.problems[0]?.reason).toContain('still serving the last good version of m.yaml');
  });

  it('names a misspelt field in a Weft document (and keeps the last good version); an empty value is absent', () => {
    const policy = (body: string) =>
      `apiVersion: mesh.weft.dev/v1alpha1\nkind: RetryPolicy\nmetadata: {name: r, namespace: shop}\nspec:\n  targetRef: {kind: Service, name: web}\n${body}`;
    const before = evaluateFile('p.yaml', policy('  attempts: 3\n  timeout:\n'), []);
    expect(before.problems).toEqual([]);
    const typo = evaluateFile('p.yaml', policy('  atempts: 3\n'), before.entries);
    expect(typo.problems).toContainEqual({ source: 'p.yaml#0', field: 'spec.atempts', reason: expect.stringContaining('unknown field') });
    expect(typo.kept).toEqual(['RetryPolicy shop/r']);
  });

  it('drops a document removed by a valid edit, and reports a duplicate within one file', () => {
    const before = evaluateFile('m.yaml', [svc('a'), svc('b')].join('---\n'), []);
    expect(ids(evaluateFile('m.yaml', svc('b'), before.entries).entries)).toEqual(['Service shop/b']);
    const dup = evaluateFile('m.yaml', [svc('a'), svc('a', ', selector: {x: y}')].join('---\n'), []);
    expect(ids(dup.entries)).toEqual(['Service shop/a']);
    expect(dup.problems[0]).toMatchObject({ source: 'm.yaml#1', field: 'metadata.name' });
  });
});

describe('mergeFiles', () => {
  it('sorts objects by identity and lets the first file by name win a duplicate', () => {
    const a = evaluateFile('a.yaml', [svc('z'), svc('dup', ', selector: {from: a}')].join('---\n'), []);
    const b = evaluateFile('b.yaml', [svc('dup', ', selector: {from: b}'), svc('m')].join('---\n'), []);
    const state = mergeFiles([
      ['b.yaml', b],
      ['a.yaml', a],
    ]);
    expect(state.objects.map(objectId)).toEqual(['Service shop/dup', 'Service shop/m', 'Service shop/z']);
    const dup = state.objects[0];
    expect(dup?.kind === 'Service' && dup.spec.selector).toEqual({ from: 'a' });
    expect(state.problems).toEqual([
      { source: 'b.yaml#0', field: 'metadata.name', reason: 'duplicate Service shop/dup, already defined in a.yaml#1; ignored' },
    ]);
  });
});
