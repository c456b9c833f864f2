import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/base/errors.ts';

describe('errorMessage', () => {
  it('is the message of an Error and the string of anything else thrown', () => {
    expect(errorMessage(new TypeError('bad type'))).toBe('bad type');
    expect(errorMessage('plain string')).toBe('plain string');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});
