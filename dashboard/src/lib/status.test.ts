import { describe, expect, it } from 'vitest';
import { actionOptions } from './status';

const blocked = (status: string, source = 'runtime') =>
  Object.fromEntries(actionOptions({ status, source }).map((o) => [o.action, o.blocked]));

describe('actionOptions', () => {
  it('offers trigger fix for a failed runtime bug', () => {
    expect(blocked('FAILED')).toEqual({
      trigger_fix: null,
      reopen: null,
      mark_failed: 'state',
      ignore: null,
    });
  });

  it('never offers trigger fix for CI/CD or deployment bugs, and says why', () => {
    expect(blocked('FAILED', 'cicd').trigger_fix).toBe('not_runtime');
    expect(blocked('NEW', 'deployment').trigger_fix).toBe('not_runtime');
    expect(blocked('FAILED', 'cicd').reopen).toBeNull();
  });

  it('offers failing and ignoring a new bug but not reopening it', () => {
    expect(blocked('NEW')).toEqual({
      trigger_fix: 'state',
      reopen: 'state',
      mark_failed: null,
      ignore: null,
    });
  });
});
