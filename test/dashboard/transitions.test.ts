import { describe, expect, it } from 'vitest';
import { ACTION_RULES, PERSON_ACTIONS, STATUSES } from '../../dashboard/src/lib/status';
import { STATUSES as SERVER_STATUSES, TRANSITIONS } from '../../functions/lib/vocabulary';

// The dashboard only offers actions the server accepts; this keeps the two tables in step.
describe('dashboard actions against the server transition table', () => {
  it('knows the same states as the server', () => {
    expect([...STATUSES].sort()).toEqual([...SERVER_STATUSES].sort());
  });

  for (const action of PERSON_ACTIONS) {
    it(`offers ${action} only where the server allows it`, () => {
      const { to, from } = ACTION_RULES[action];
      for (const status of from) expect(TRANSITIONS[status], `${status} → ${to}`).toContain(to);
    });
  }
});
