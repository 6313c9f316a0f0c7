// EventsError shape (CONVENTIONS.md "Errors"): code, name, message, cause, details, toJSON, and
// isEventsError matching on the code (so IPC copies match too).
import { describe, expect, it } from 'vitest';
import { EVENTS_ERROR_CODES, EventsError, isEventsError } from '../src/index.js';
import { describeValue } from '../src/errors.js';

describe('EventsError', () => {
  it('carries code, name, message, cause and details, and serialises without the stack', () => {
    const cause = new Error('socket');
    const err = new EventsError('EVENTS_LINE_TOO_LONG', 'line 3 length 70000 > max 65536 bytes', { cause, details: { line: 3 } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('EventsError');
    expect(err.code).toBe('EVENTS_LINE_TOO_LONG');
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ code: 'EVENTS_LINE_TOO_LONG', message: 'line 3 length 70000 > max 65536 bytes', details: { line: 3 } });
    expect(new EventsError('EVENTS_BUS_CLOSED', 'x').toJSON()).toEqual({ code: 'EVENTS_BUS_CLOSED', message: 'x' });
    expect(new EventsError('EVENTS_BUS_CLOSED', 'x').cause).toBeUndefined();
  });

  it('is recognised by code, including plain-object copies from IPC', () => {
    const copy = JSON.parse(JSON.stringify(new EventsError('EVENTS_TOO_LARGE', 'big'))) as unknown;
    expect(isEventsError(copy)).toBe(true);
    expect(isEventsError(copy, 'EVENTS_TOO_LARGE')).toBe(true);
    expect(isEventsError(copy, 'EVENTS_BAD_JSON')).toBe(false);
    expect(isEventsError(new Error('x'))).toBe(false);
    expect(isEventsError({ code: 'FRAMING_TOO_LARGE' })).toBe(false);
    expect(isEventsError(null)).toBe(false);
    expect(isEventsError('EVENTS_TOO_LARGE')).toBe(false);
  });

  it('lists distinct EVENTS_* codes', () => {
    expect(new Set(EVENTS_ERROR_CODES).size).toBe(EVENTS_ERROR_CODES.length);
    for (const c of EVENTS_ERROR_CODES) expect(c).toMatch(/^EVENTS_[A-Z_]+$/);
  });

  it('renders values in messages briefly, never whole objects', () => {
    expect(['x'.repeat(50), 5, true, 10n, null, undefined, () => 1, Symbol('s'), [1, 2], { a: 1 }].map(describeValue)).toEqual([
      `"${'x'.repeat(40)}..."`,
      '5',
      'true',
      '10',
      'null',
      'undefined',
      'a function',
      'a symbol',
      'an array(2)',
      'an object',
    ]);
  });
});
