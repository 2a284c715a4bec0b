import { describe, expect, it } from 'vitest';
import { activityOf, bugDetail, json, pendingBug, useReviewSuite } from './support';

interface BatchAnswer {
  results: Array<
    | { id: number; ok: true; bug: { id: number; status: string }; message: string }
    | { id: number; ok: false; error: { code: string; message: string } }
  >;
}

describe('batch review', () => {
  const suite = useReviewSuite();
  const batch = (body: unknown) => suite.lc.api('/api/v1/bugs/review', { method: 'POST', ...json(body) });

  it('approve & merge several: a conflict on one does not stop the others, each gets its own result', async () => {
    const first = await pendingBug(suite);
    const conflicted = await pendingBug(suite, { pull: { conflict: true } });
    const last = await pendingBug(suite);
    const res = await batch({
      ids: [first.id, conflicted.id, last.id, 987654321],
      action: 'approve_and_merge',
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as BatchAnswer;
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      [first.id, true],
      [conflicted.id, false],
      [last.id, true],
      [987654321, false],
    ]);
    expect(results[1]).toMatchObject({
      ok: false,
      error: {
        code: 'gitea_failed',
        message: 'Gitea refused the merge (409): merge failed because of conflict',
      },
    });
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'not_found', message: 'Bug not found' } });

    await suite.gitea.settled();
    for (const bug of [first, last]) {
      expect((await bugDetail(suite.lc, bug.id)).status).toBe('MERGED');
      expect(suite.gitea.pull(bug.owner, bug.repo, bug.pr)!.merged).toBe(true);
    }
    const stuck = await bugDetail(suite.lc, conflicted.id);
    expect(stuck.status).toBe('PENDING_REVIEW');
    // Nothing of the cockpit's is stored for it; Gitea's own approved webhook is.
    expect(stuck.activity.map((a) => a.kind)).toEqual(['gitea_review']);
  });

  it('reject several with one note; a bug no longer in review answers 409 in its row', async () => {
    const a = await pendingBug(suite);
    const b = await pendingBug(suite);
    const merged = await pendingBug(suite);
    expect((await batch({ ids: [merged.id], action: 'approve_and_merge' })).status).toBe(200);
    await suite.gitea.settled();

    const res = await batch({
      ids: [a.id, merged.id, b.id],
      action: 'request_changes',
      note: 'Add a test first',
    });
    const { results } = (await res.json()) as BatchAnswer;
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({
      error: {
        code: 'conflict',
        message: `Bug ${merged.id} is MERGED; review actions apply to a bug in PENDING_REVIEW`,
      },
    });
    await suite.gitea.settled();
    for (const bug of [a, b]) {
      const detail = await bugDetail(suite.lc, bug.id);
      expect(detail.status).toBe('FIXING');
      const mine = (await activityOf(suite.lc, bug.id)).find(
        (row) => row.kind === 'review_changes_requested',
      );
      expect(mine).toMatchObject({ actor: 'person', body: 'Add a test first' });
    }
  });
});
