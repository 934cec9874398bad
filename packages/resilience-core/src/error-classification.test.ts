import { describe, expect, it } from 'vitest';
import { describeError, errors, errorText, messageOf } from './index.ts';

describe('error-to-message (one helper family)', () => {
  it('errorText: the message of an Error, String() of anything else', () => {
    expect(errorText(new TypeError('bad'))).toBe('bad');
    expect(errorText(errors.conflict('taken'))).toBe('taken');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
    expect(errorText(undefined)).toBe('undefined');
  });

  it('messageOf prefixes the code of a resilience error only; describeError prefixes code or name and bounds it', () => {
    expect(messageOf(errors.conflict('taken'))).toBe('CONFLICT: taken');
    expect(messageOf(new TypeError('bad'))).toBe('bad');
    expect(messageOf(7)).toBe('7');
    expect(describeError(new TypeError('bad'))).toBe('TypeError: bad');
    expect(describeError(errors.conflict('taken'))).toBe('CONFLICT: taken');
    expect(describeError('x'.repeat(300))).toHaveLength(200);
  });
});
