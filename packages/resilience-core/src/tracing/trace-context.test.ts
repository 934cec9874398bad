import { describe, expect, it } from 'vitest';
import { childSpan, continueTrace, formatTraceparent, newTrace, parseTraceparent } from './trace-context.ts';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses a valid header and formats it back', () => {
    const parsed = parseTraceparent(VALID);
    expect(parsed).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(formatTraceparent(parsed!)).toBe(VALID);
  });

  it.each([
    ['not a header'],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    [`${VALID}-extra`],
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
  ])('refuses %s', (header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it('accepts a later version with extra fields (forward compatibility)', () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what`)).toMatchObject({
      sampled: false,
    });
  });

  it('a child span keeps the trace and points at its parent', () => {
    const child = childSpan(parseTraceparent(VALID)!);
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.parentSpanId).toBe('00f067aa0ba902b7');
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('continues a valid trace and starts a new one otherwise', () => {
    expect(continueTrace(VALID).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const fresh = continueTrace('garbage');
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.parentSpanId).toBeUndefined();
    expect(newTrace().traceId).not.toBe(newTrace().traceId);
  });
});
