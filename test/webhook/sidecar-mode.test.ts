import { describe, expect, it } from 'vitest';
import { learnServerVersion, parseServerVersion, resolveSidecarShape, shapeOf } from '../../webhook/sidecar-mode.ts';

describe('sidecar shape by API server version', () => {
  it.each([
    [
      { major: '1', minor: '37', gitVersion: 'v1.37.2' },
      { major: 1, minor: 37 },
    ],
    [
      { major: '1', minor: '29+', gitVersion: 'v1.29.3-gke.1067000' },
      { major: 1, minor: 29 },
    ],
    [
      { major: '1', minor: '28+' },
      { major: 1, minor: 28 },
    ],
    [{ gitVersion: 'v2.0.0' }, { major: 2, minor: 0 }],
  ])('reads %j', (body, want) => expect(parseServerVersion(body)).toMatchObject(want));

  it.each([null, 'v1.30', {}, { major: 'one', minor: '2' }])('finds no version in %j', (body) => expect(parseServerVersion(body)).toBeUndefined());

  it('is native from 1.29 (beta, on by default), the plain container before or when unknown, and explicit modes win', () => {
    const v = (gitVersion: string) => parseServerVersion({ gitVersion });
    expect(resolveSidecarShape('auto', v('v1.28.15')).shape).toBe('container');
    expect(resolveSidecarShape('auto', v('v1.29.0')).shape).toBe('native');
    expect(resolveSidecarShape('auto', v('v1.33.1')).shape).toBe('native');
    expect(resolveSidecarShape('auto', undefined)).toMatchObject({ shape: 'container', reason: expect.stringContaining('could not be read') });
    expect(resolveSidecarShape('native', v('v1.27.0')).shape).toBe('native');
    expect(resolveSidecarShape('container', v('v1.37.0')).shape).toBe('container');
    expect(shapeOf('auto')).toBe('native');
  });

  it('retries a failing read, then gives up', async () => {
    let calls = 0;
    const errors: number[] = [];
    const v = await learnServerVersion(
      async () => {
        calls++;
        if (calls < 2) throw new Error('not yet');
        return { gitVersion: 'v1.31.0' };
      },
      { delayMs: 1, onError: (_e, n) => errors.push(n) },
    );
    expect(v?.text).toBe('v1.31.0');
    expect(errors).toEqual([1]);
    expect(await learnServerVersion(async () => ({}), { attempts: 2, delayMs: 1 })).toBeUndefined();
  });
});
